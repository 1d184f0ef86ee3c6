// Sequential binary output. Data goes to "<path>.partial" and is renamed into
// place on close, so a failed save never leaves a truncated checkpoint behind.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

final class BinaryFileWriter {
    let path: String
    private let partialPath: String
    private var handle: UnsafeMutablePointer<FILE>?
    private(set) var offset = 0

    private var fileName: String { String(path.split(separator: "/").last ?? Substring(path)) }

    init(path: String) throws {
        self.path = path
        partialPath = path + ".partial"
        handle = fopen(partialPath, "wb")
        guard handle != nil else {
            throw CheckpointError.io(file: String(path.split(separator: "/").last ?? Substring(path)),
                                     message: "cannot create (\(String(cString: strerror(errno))))")
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard let handle, bytes.count > 0, let base = bytes.baseAddress else { return }
        guard fwrite(base, 1, bytes.count, handle) == bytes.count else {
            throw CheckpointError.io(file: fileName, message: "write failed (\(String(cString: strerror(errno))))")
        }
        offset += bytes.count
    }

    func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    func close() throws {
        guard let h = handle else { return }
        handle = nil
        guard fclose(h) == 0, rename(partialPath, path) == 0 else {
            unlink(partialPath)
            throw CheckpointError.io(file: fileName, message: "cannot finish writing (\(String(cString: strerror(errno))))")
        }
    }

    deinit {
        // Not closed: an error interrupted the save; drop the partial file.
        if let h = handle {
            fclose(h)
            unlink(partialPath)
        }
    }
}
