// `vision checkpoint list|info|convert|download`: the published torchvision
// weights and the local store, what a checkpoint file holds, format conversion.

import ArgumentParser
import Foundation
import VisionCheckpoint
import VisionDetection

struct CheckpointCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "List, inspect, convert and download checkpoints.",
        discussion: "Downloads go to $VISION_HOME/checkpoints (VISION_HOME defaults to ~/.cache/vision).",
        subcommands: [CheckpointList.self, CheckpointInfo.self, CheckpointConvert.self, CheckpointDownload.self])
}

struct CheckpointList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "Show the published models, which are downloaded, and the shipped ones.")

    func run() throws {
        let directory = ModelDirectory.url
        let published = ModelStore.published(in: directory)
        print("Published torchvision models (store: \(ModelStore.checkpointsDirectory.path)):")
        if published.isEmpty { print("  none (no model definitions with a url in \(directory.path))") }
        let width = published.map(\.name.count).max() ?? 0
        for model in published {
            let mark = model.isDownloaded ? "downloaded" : "-"
            print("  \(model.name.padding(toLength: width, withPad: " ", startingAt: 0))  sha256 \(model.sha256Prefix)  \(mark.padding(toLength: 10, withPad: " ", startingAt: 0))  \(model.url.absoluteString)")
        }
        let shipped = ModelStore.shipped(in: directory)
        print("Shipped models (\(directory.path)):")
        if shipped.isEmpty { print("  none") }
        for url in shipped { print("  \(url.lastPathComponent)  \(CheckpointInfo.byteCount(of: url))") }
    }
}

struct CheckpointInfo: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Describe a checkpoint: architecture, classes, parameters, format, size.")

    @Argument(help: ArgumentHelp("A .pth or .safetensors file.", valueName: "path"))
    var path: String

    func validate() throws {
        guard FileManager.default.fileExists(atPath: path) else { throw ValidationError("no such file: \(path)") }
    }

    func run() throws {
        let url = URL(fileURLWithPath: path)
        let (state, format) = try loadStateDict(from: url)
        let architecture: String
        if let json = state.metadata[Detector.configMetadataKey],
           let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)) {
            architecture = config.name + " (from its metadata)"
        } else if let name = try? ArchitectureInference.architecture(keys: Set(state.keys), requested: nil, source: path) {
            architecture = name.hasPrefix("fasterrcnn_mobilenet_v3_large")
                ? "fasterrcnn_mobilenet_v3_large_fpn or fasterrcnn_mobilenet_v3_large_320_fpn (same keys; choose with --model)"
                : name
        } else {
            architecture = "unknown (not a torchvision Faster R-CNN state dict)"
        }
        // Parameters exclude batch-norm buffers, as torch's model.parameters() does.
        let buffers = ["running_mean", "running_var", "num_batches_tracked"]
        let parameters = state.keys.filter { key in !buffers.contains { key.hasSuffix("." + $0) } }
            .reduce(0) { $0 + (state[$1]?.shape.reduce(1, *) ?? 0) }

        print("file:          \(path)")
        print("format:        \(format.rawValue), \(CheckpointInfo.byteCount(of: url))")
        print("architecture:  \(architecture)")
        if let classifier = state["roi_heads.box_predictor.cls_score.weight"], classifier.rank == 2 {
            let count = classifier.shape[0]
            let names = (try? Detector.classNames(metadata: state.metadata, numClasses: count, source: path)) ?? []
            let real = ClassFilter.validNames(names)
            let shown = real.prefix(8).joined(separator: ", ") + (real.count > 8 ? ", ... (\(real.count) named)" : "")
            print("classes:       \(count) including background: \(shown)")
        }
        print("parameters:    \(CheckpointInfo.grouped(parameters)) in \(state.count) tensors")
        if !state.metadata.isEmpty { print("metadata:      \(state.metadata.keys.sorted().joined(separator: ", "))") }
    }

    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        return String(digits.enumerated().flatMap { i, d in (i > 0 && (digits.count - i) % 3 == 0) ? [",", d] : [d] })
    }

    static func byteCount(of url: URL) -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.int64Value ?? 0
        let mib = Double(size) / 1_048_576
        return mib >= 1 ? String(format: "%.1f MiB (%lld bytes)", mib, size) : "\(size) bytes"
    }
}

struct CheckpointConvert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert between .pth and .safetensors (chosen by the output's extension), or a TFLite MobileNetV2 into a torchvision mobilenet_v2 state dict.",
        discussion: "A .tflite input (or any file with the TFLite identifier \"TFL3\") must be a MobileNetV2 ImageNet classifier "
            + "such as TensorFlow's mobilenet_v2_1.0_224_quant.tflite: weights are dequantised to float32, BatchNorm is written "
            + "folded (weight 1, bias, mean 0, var 1-1e-5), class 0 'background' is dropped, and input_mean/input_std go into the metadata.")

    @Argument(help: ArgumentHelp("The checkpoint to read (.pth, .safetensors, or a TFLite MobileNetV2 .tflite).", valueName: "in"))
    var input: String
    @Argument(help: ArgumentHelp("The file to write: .safetensors, or .pth/.pt.", valueName: "out"))
    var output: String
    @Option(help: ArgumentHelp(
        "Element type of the output: keep (F16 when every input tensor is F16, else F32; loses nothing), f32, or f16 (half the size).",
        valueName: "type"))
    var dtype: String = "keep"
    @Flag(help: "Replace an existing output file (never the input).")
    var overwrite = false
    @Option(name: .customLong("set"), help: ArgumentHelp(
        "Change an inference setting in the checkpoint's model config (repeatable): "
            + InferenceSetting.settable.keys.sorted().joined(separator: ", ") + ".",
        valueName: "key=value"))
    var settings: [String] = []

    func validate() throws {
        guard FileManager.default.fileExists(atPath: input) else { throw ValidationError("no such file: \(input)") }
        for setting in settings {
            do { _ = try InferenceSetting(parsing: setting) } catch { throw ValidationError("\(error)") }
        }
        guard ["safetensors", "pth", "pt"].contains((output as NSString).pathExtension.lowercased()) else {
            throw ValidationError("cannot tell the output format of \(output): use a .safetensors, .pth or .pt name")
        }
        guard ["keep", "f32", "f16"].contains(dtype.lowercased()) else {
            throw ValidationError("--dtype must be keep, f32 or f16, not \(dtype)")
        }
        let a = URL(fileURLWithPath: input).resolvingSymlinksInPath().path
        let b = URL(fileURLWithPath: output).resolvingSymlinksInPath().path
        guard a != b, FileIdentity(path: input) != FileIdentity(path: output) || FileIdentity(path: output) == nil else {
            throw ValidationError("the output would overwrite the input (\(input))")
        }
        if !overwrite && FileManager.default.fileExists(atPath: output) {
            throw ValidationError("\(output) exists; refusing to overwrite it (choose another name, or pass --overwrite)")
        }
    }

    func run() throws {
        let source = URL(fileURLWithPath: input)
        var state: StateDict, formatName: String
        if TFLiteMobileNetV2.isTFLite(source) {
            let conversion = try TFLiteMobileNetV2.convert(contentsOf: source)
            conversion.summary.forEach { print($0) }
            (state, formatName) = (conversion.stateDict, "tflite")
        } else {
            let (loaded, format) = try loadStateDict(from: source)
            (state, formatName) = (loaded, format.rawValue)
        }
        try InferenceSetting.apply(try settings.map(InferenceSetting.init(parsing:)), to: &state, source: input)
        let destination = URL(fileURLWithPath: output)
        // Written beside the destination, then renamed: a failed run leaves no half file.
        let temporary = destination.deletingLastPathComponent()
            .appendingPathComponent(".\(destination.lastPathComponent).part-\(ProcessInfo.processInfo.processIdentifier)")
        defer { try? FileManager.default.removeItem(at: temporary) }
        let storage: SafetensorsStorage
        switch dtype.lowercased() {
        case "f16": storage = .float16
        case "f32": storage = .float32
        default: storage = .lossless(for: state)
        }
        // Both formats carry the metadata (class names, model config): a .pth in an
        // extra archive record torch ignores, so a round trip loses nothing.
        if (output as NSString).pathExtension.lowercased() == "safetensors" {
            try saveSafetensors(state, to: temporary, metadata: state.metadata, storage: storage)
        } else {
            try savePth(state, to: temporary, metadata: state.metadata, storage: storage)
        }
        try AtomicFile.replace(destination, with: temporary)
        print("\(input) (\(formatName), \(state.count) tensors) -> \(output) (\(CheckpointInfo.byteCount(of: destination)))")
    }
}

enum AtomicFile {
    /// rename(2): the destination is either the old file or the complete new one.
    static func replace(_ destination: URL, with temporary: URL) throws {
        guard rename(temporary.path, destination.path) == 0 else {
            throw CheckpointCommandError.io(path: destination.path, reason: String(cString: strerror(errno)))
        }
    }
}

enum CheckpointCommandError: Error, CustomStringConvertible {
    case io(path: String, reason: String)
    case unknownModel(name: String, known: [String])
    case download(url: String, reason: String)
    case checksum(url: String, expected: String, actual: String)
    case offline(name: String, url: String, path: String)

    var description: String {
        switch self {
        case let .io(path, reason): return "\(path): \(reason)"
        case let .unknownModel(name, known):
            return "unknown model '\(name)'; downloadable: \(known.isEmpty ? "none" : known.joined(separator: ", "))"
        case let .download(url, reason): return "\(url): download failed: \(reason)"
        case let .checksum(url, expected, actual):
            return "\(url): checksum mismatch: SHA-256 \(actual) does not start with \(expected); nothing was kept"
        case let .offline(name, url, path):
            return "\(name) is not in the store and VISION_OFFLINE forbids downloading it: fetch \(url) on a machine "
                + "with network access and put it at \(path) (or run `vision checkpoint download \(name)` without VISION_OFFLINE)"
        }
    }
}
