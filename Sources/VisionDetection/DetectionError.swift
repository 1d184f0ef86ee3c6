/// Errors of the detection pipeline; each names the file or model concerned.
public enum DetectionError: Error, CustomStringConvertible {
    case unknownModel(name: String, searched: String)
    case badModelDefinition(file: String, reason: String)
    case cannotInferArchitecture(file: String, reason: String)
    case badLabels(file: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownModel(name, searched):
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
