// torch.save zip archives (torch >= 1.6): <prefix>/data.pkl is a pickle whose
// persistent ids name storages stored raw (little-endian) in <prefix>/data/<key>.
// A .pth vision wrote also holds <prefix>/vision_metadata.json (PthMetadataRecord).

enum PthZipReader {
    static func read(_ file: MappedFile) throws -> StateDict {
        let name = file.fileName
        let zip = try ZipArchiveReader(bytes: file.bytes, fileName: name)
        // Every record sits under one top folder, whatever the archive was named.
        guard let pickleEntry = zip.entries.first(where: { entry in
            entry.name.hasSuffix("/data.pkl") && entry.name.dropLast("/data.pkl".count).allSatisfy { $0 != "/" }
        }) else {
            throw CheckpointError.badHeader(file: name, message: "zip archive has no <folder>/data.pkl record")
        }
        let prefix = String(pickleEntry.name.dropLast("data.pkl".count))
        if let byteOrder = zip.entry(named: prefix + "byteorder") {
            let text = String(decoding: try zip.data(of: byteOrder), as: UTF8.self)
            guard text.hasPrefix("little") else {
                throw CheckpointError.badHeader(file: name, message: "byteorder is '\(text)'; only little-endian files are supported")
            }
        }
        let pickleBytes = try zip.data(of: pickleEntry)
        var unpickler = SafeUnpickler(
            reader: ByteReader(pickleBytes, fileName: name, fileOffset: pickleEntry.dataOffset),
            persistentLoad: { arena, id in .storage(try storageReference(from: id, arena: arena, fileName: name)) })
        let root = try unpickler.load()
        let builder = TorchStateDictBuilder(fileName: name, arena: unpickler.arena) { reference in
            guard let entry = zip.entry(named: prefix + "data/" + reference.key) else {
                throw CheckpointError.badHeader(file: name, message: "storage record data/\(reference.key) is missing")
            }
            let bytes = try zip.data(of: entry)
            let dtype = reference.dtype.tensorDType
            return RawStorage(base: bytes.baseAddress, count: bytes.count / dtype.byteSize, dtype: dtype)
        }
        var stateDict = try builder.build(root)
        if let record = zip.entry(named: prefix + PthMetadataRecord.name) {
            stateDict.metadata = try PthMetadataRecord.decode(try zip.data(of: record), fileName: name)
        }
        return stateDict
    }
}
