// Writes a state dict as a torch zip archive that torch.load(weights_only=True)
// reads: archive/data.pkl, byteorder, one data/<n> record per tensor (64-byte
// aligned, FloatStorage or HalfStorage), version records, and vision's
// metadata as archive/vision_metadata.json when there is any.

import VisionCore

enum PthWriter {
    static func write(_ stateDict: StateDict, to path: String, metadata: [String: String] = [:],
                      storage: SafetensorsStorage = .float32, archiveName: String = "archive") throws {
        let keys = stateDict.keys
        let tensors = keys.map { stateDict.tensors[$0]! }
        try storage.checkRepresentable(stateDict, file: path)
        let pickle = PickleWriter.stateDictPickle(
            keys: keys, shapes: tensors.map(\.shape), storageClass: storage == .float16 ? .float16 : .float32,
            moduleVersions: stateDict.moduleVersions)
        let output = try BinaryFileWriter(path: path)
        var zip = ZipArchiveWriter(output: output)
        let prefix = archiveName + "/"
        try zip.addEntry(name: prefix + "data.pkl", bytes: pickle)
        try zip.addEntry(name: prefix + ".format_version", bytes: Array("1".utf8))
        try zip.addEntry(name: prefix + ".storage_alignment", bytes: Array("64".utf8))
        try zip.addEntry(name: prefix + "byteorder", bytes: Array("little".utf8))
        if !metadata.isEmpty {
            try zip.addEntry(name: prefix + PthMetadataRecord.name, bytes: PthMetadataRecord.encode(metadata))
        }
        for (index, tensor) in tensors.enumerated() {
            try storage.withStoredBytes(of: tensor) { try zip.addEntry(name: prefix + "data/\(index)", parts: [$0]) }
        }
        try zip.addEntry(name: prefix + "version", bytes: Array("3\n".utf8))
        try zip.finish()
        try output.close()
    }
}
