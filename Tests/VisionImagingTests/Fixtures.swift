// Locating and loading the committed fixtures under Tests/Fixtures/images
// (written by Tests/Fixtures/generate_images.py).

import Foundation
import VisionCore
import XCTest

enum Fixtures {
    /// The repository root: the first ancestor of this file holding Package.swift.
    static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url.deleteLastPathComponent()
        }
        fatalError("no Package.swift above \(#filePath)")
    }()

    static let images = repositoryRoot.appendingPathComponent("Tests/Fixtures/images")
    static let photos = repositoryRoot.appendingPathComponent("Samples/photos")

    static func url(_ relativePath: String) -> URL { images.appendingPathComponent(relativePath) }

    static func json<T: Decodable>(_ type: T.Type, _ relativePath: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(relativePath)))
    }

    static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: url(relativePath)))
    }

    /// A raw little-endian float32 file as a tensor of `shape`.
    static func tensor(_ relativePath: String, shape: [Int]) throws -> Tensor {
        let data = try Data(contentsOf: url(relativePath))
        let count = data.count / 4
        XCTAssertEqual(count, Tensor.elementCount(shape), "\(relativePath) size")
        let values = data.withUnsafeBytes { raw in
            (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) }
        }
        return Tensor(shape: shape, values: values)
    }
}

struct DecodeCase: Decodable {
    let file: String
    let expected: String
    let width: Int
    let height: Int
    let note: String
}

struct PhotoReference: Decodable {
    let file: String
    let width: Int
    let height: Int
    let mean: [Double]
    /// [x, y, r, g, b]
    let samples: [[Int]]
}

struct ResizeCase: Decodable {
    let name: String
    let note: String
    let inputShape: [Int]
    let outputShape: [Int]
    let input: String?
    let output: String?
    let hashSeed: Int?
    let outputMean: Double?
    /// [flat index, value]
    let samples: [[Double]]?
    let minSize: Int?
    let maxSize: Int?
}
