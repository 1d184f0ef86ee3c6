/// Errors of the detection pipeline; each names the file or model concerned.
public enum DetectionError: Error, CustomStringConvertible {
    case unknownModel(name: String, searched: String)
    case badModelDefinition(file: String, reason: String)
    case cannotInferArchitecture(file: String, reason: String)
    case badLabels(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownModel(name, searched):
            if ModelConfig.names.contains(name) {
                // A known architecture whose definition is missing: the Models folder was
                // not found (a vision binary copied away from the repository).
                return "model '\(name)': no \(name).json in \(searched): the Models folder was not found beside the vision executable or in the current directory; set VISION_MODELS to the repository's Models folder"
            }
            return "unknown model '\(name)' (no \(name).json in \(searched)); known: \(ModelConfig.names.joined(separator: ", "))"
        case let .badModelDefinition(file, reason):
            return "\(file): invalid model definition: \(reason)"
        case let .cannotInferArchitecture(file, reason):
            return "\(file): cannot tell the architecture from the checkpoint's keys: \(reason)"
        case let .badLabels(file, reason):
            return "\(file): \(reason)"
        }
    }
}
