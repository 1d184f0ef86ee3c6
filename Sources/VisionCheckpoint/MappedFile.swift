// A read-only view of a whole file. Large checkpoints are memory-mapped so a
// load touches each byte once (in the conversion loop) and never copies the
// file into a Swift array first.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

final class MappedFile {
    let fileName: String
    let bytes: UnsafeRawBufferPointer
    private let mappedLength: Int
    private let ownsHeapCopy: Bool

    init(url: URL) throws {
        fileName = url.lastPathComponent
        let fd = open(url.path, O_RDONLY)
        guard fd >= 0 else {
            throw CheckpointError.io(file: fileName, message: "cannot open (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw CheckpointError.io(file: fileName, message: "cannot stat (\(String(cString: strerror(errno))))")
        }
        let size = Int(info.st_size)
        guard size > 0 else { throw CheckpointError.truncated(file: fileName, context: "file is empty") }
        if let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED {
            bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(base), count: size)
            mappedLength = size
            ownsHeapCopy = false
            return
        }
        // Some file systems refuse mmap: read the file once into the heap instead.
        let heap = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
        var done = 0
        while done < size {
            let got = read(fd, heap + done, size - done)
            if got <= 0 {
                heap.deallocate()
                throw CheckpointError.io(file: fileName, message: "read failed after \(done) of \(size) bytes")
            }
            done += got
        }
        bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(heap), count: size)
        mappedLength = size
        ownsHeapCopy = true
    }

    /// A heap copy of in-memory bytes, read as if they were a file called `name`.
    init(copying data: UnsafeRawBufferPointer, name: String) throws {
        fileName = name
        guard data.count > 0, let source = data.baseAddress else {
            throw CheckpointError.truncated(file: name, context: "file is empty")
        }
        let heap = UnsafeMutableRawPointer.allocate(byteCount: data.count, alignment: 64)
        heap.copyMemory(from: source, byteCount: data.count)
        bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(heap), count: data.count)
        mappedLength = data.count
        ownsHeapCopy = true
    }

    deinit {
        guard let base = bytes.baseAddress else { return }
        if ownsHeapCopy {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        } else {
            munmap(UnsafeMutableRawPointer(mutating: base), mappedLength)
        }
    }
}
