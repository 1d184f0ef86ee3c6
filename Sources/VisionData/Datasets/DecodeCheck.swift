// `vision dataset inspect --decode`: decodes every image, as training will, to
// find the files whose header looks fine but whose data does not (a truncated
// JPEG, libjpeg's "Premature end of JPEG file"). Reading a dataset only looks at
// headers, which keeps it fast; this is the slow, thorough check.

import Foundation
import VisionCore
import VisionImaging

extension DetectionDataset {
    /// The dataset without the records whose image cannot be decoded, each such
    /// file reported once as an `undecodableImage` problem naming it. Every image
    /// file is decoded once (on up to `threads.count` threads), whichever splits share it.
    public func checkingImageDecoding(threads: KernelThreads) -> DetectionDataset {
        var urls: [URL] = []
        var seen = Set<String>()
        for split in splits {
            for record in recordsBySplit[split] ?? [] where seen.insert(record.imageURL.path).inserted { urls.append(record.imageURL) }
        }
        var failures = [String?](repeating: nil, count: urls.count)
        failures.withUnsafeMutableBufferPointer { results in
            let results = results  // each iteration writes its own slot
            threads.parallelChunks(urls.count, chunks: urls.count) { range in
                for i in range { results[i] = Self.decodeFailure(urls[i]) }
            }
        }
        var checked = self
        var bad = Set<String>()
        for (url, failure) in zip(urls, failures) {
            guard let failure else { continue }
            bad.insert(url.path)
            checked.problems.append(DatasetProblem(file: url.path, kind: .undecodableImage, reason: failure))
        }
        if bad.isEmpty { return checked }
        for split in splits {
            checked.recordsBySplit[split] = recordsBySplit[split]?.filter { !bad.contains($0.imageURL.path) }
        }
        return checked
    }

    /// Why `url` cannot be decoded, or nil when it can.
    static func decodeFailure(_ url: URL) -> String? {
        do {
            _ = try ImageDecoder.decode(contentsOf: url)
            return nil
        } catch let error as ImageError {
            // ImageError's description is "<file>: <reason>"; the problem names the file already.
            let text = error.description
            let prefix = error.file + ": "
            return text.hasPrefix(prefix) ? String(text.dropFirst(prefix.count)) : text
        } catch {
            return "\(error)"
        }
    }
}
