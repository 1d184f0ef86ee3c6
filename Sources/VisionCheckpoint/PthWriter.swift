// Writes a Float32 state dict as a torch zip archive that
// torch.load(weights_only=True) reads: archive/data.pkl, byteorder, one
// data/<n> record per tensor (64-byte aligned), version records.

import VisionCore

enum PthWriter {
    static func write(_ stateDict: StateDict, to path: String, archiveName: String = "archive") throws {
        let keys = stateDict.keys
        let tensors = keys.map { stateDict.tensors[$0]! }
        let pickle = PickleWriter.stateDictPickle(
            keys: keys, shapes: tensors.map(\.shape), moduleVersions: stateDict.moduleVersions)
        let output = try BinaryFileWriter(path: path)
        var zip = ZipArchiveWriter(output: output)
        let prefix = archiveName + "/"
        try zip.addEntry(name: prefix + "data.pkl", bytes: pickle)
        try zip.addEntry(name: prefix + ".format_version", bytes: Array("1".utf8))
        try zip.addEntry(name: prefix + ".storage_alignment", bytes: Array("64".utf8))
        try zip.addEntry(name: prefix + "byteorder", bytes: Array("little".utf8))
        for (index, tensor) in tensors.enumerated() {
            try tensor.withUnsafeBufferPointer { values in
                try zip.addEntry(name: prefix + "data/\(index)", parts: [UnsafeRawBufferPointer(values)])
            }
        }
        try zip.addEntry(name: prefix + "version", bytes: Array("3\n".utf8))
        try zip.finish()
        try output.close()
    }
}
