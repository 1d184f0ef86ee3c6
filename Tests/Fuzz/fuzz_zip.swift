// libFuzzer target: the zip reader under the .pth loader: end records (classic
// and zip64), the central directory, local data ranges of every entry.
// Seeds: the committed zip .pth fixtures.

@testable import VisionCheckpoint

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let name = "fuzz.zip"
    let buffer = UnsafeRawBufferPointer(start: bytes, count: size)
    do {
        let zip = try ZipArchiveReader(bytes: buffer, fileName: name)
        for entry in zip.entries {
            check(zip.entry(named: entry.name) != nil, "entry \(entry.name) not found by name")
            do {
                let data = try zip.data(of: entry)
                // The slice must lie inside the input.
                if let start = data.baseAddress, data.count > 0 {
                    check(start >= UnsafeRawPointer(bytes) && start + data.count <= UnsafeRawPointer(bytes) + size,
                                 "entry \(entry.name) data outside the file")
                }
            } catch {
                requireNamed(error, name, target: "zip")
            }
        }
    } catch {
        requireNamed(error, name, target: "zip")
    }
    return 0
}
