// Overlaps image decoding + input transform with the network: a producer thread
// decodes and prepares the next images while the caller runs the model on the
// current one. The queue holds at most `depth` prepared images, so memory stays
// flat over any number of inputs.

import Foundation
import VisionDetection
import VisionImaging

/// A blocking FIFO of bounded capacity shared by one producer and one consumer.
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private let capacity: Int
    private var closed = false

    init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Blocks while full. Returns false (dropping `item`) once the queue is closed.
    @discardableResult
    func put(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !closed { condition.wait() }
        guard !closed else { return false }
        items.append(item)
        condition.broadcast()
        return true
    }

    /// Blocks while empty; nil once closed and drained.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !closed { condition.wait() }
        guard !items.isEmpty else { return nil }
        let item = items.removeFirst()
        condition.broadcast()
        return item
    }

    /// No more items will be put (producer done) or taken (consumer gone).
    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// One input after the producer: ready for the model, or the reason it is not.
struct PreparedInput: @unchecked Sendable {
    let input: InputImage
    let result: Result<Ready, Error>

    struct Ready {
        let prepared: DetectionTransform.Prepared
        /// The decoded image, kept only when annotated copies are written.
        let image: RGBImage?
    }
}

enum PredictionPipeline {
    /// Starts the producer thread and returns the queue it fills; the queue is
    /// closed after the last input. Close it from the consumer side to stop early.
    static func start(inputs: [InputImage], detector: Detector, keepImages: Bool,
                      depth: Int = 2) -> BoundedQueue<PreparedInput> {
        let queue = BoundedQueue<PreparedInput>(capacity: depth)
        let thread = Thread {
            for input in inputs {
                let item = PreparedInput(input: input, result: Result {
                    let image = try decode(input.file)
                    return PreparedInput.Ready(prepared: detector.prepare(image), image: keepImages ? image : nil)
                })
                if !queue.put(item) { break }
            }
            queue.close()
        }
        thread.name = "vision.decode"
        thread.start()
        return queue
    }

    /// Reads and decodes one file; errors name the file as the user gave it.
    static func decode(_ file: String) throws -> RGBImage {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: file))
        } catch {
            throw ImageError(file: file, reason: .io("cannot read file (\(error.localizedDescription))"))
        }
        return try ImageDecoder.decode(data: data, name: file)
    }
}
