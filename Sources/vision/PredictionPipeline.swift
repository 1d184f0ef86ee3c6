// Overlaps image and video decoding + input transform with the network: a
// producer thread decodes and prepares the next images (or video frames) while the
// caller runs the model on the current one. The queue holds at most `depth`
// items, so memory stays flat over any number of inputs and any video length.

import Foundation
import VisionDetection
import VisionImaging
import VisionVideo

/// A blocking FIFO of bounded capacity shared by one producer and one consumer.
final class BoundedQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element] = []
    private let capacity: Int
    private var closed = false
    /// False: the producer works only while the consumer waits (see awaitDemand).
    private let prefetch: Bool
    private var consumersWaiting = 0

    init(capacity: Int, prefetch: Bool = true) {
        self.capacity = max(1, capacity)
        self.prefetch = prefetch
    }

    /// Producer side, before preparing an item. Without prefetch, blocks until the consumer
    /// waits in take() on an empty queue, so producing never overlaps the consumer's work
    /// (--threads 1 keeps one core busy). False once the queue is closed.
    func awaitDemand() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !prefetch && !closed && (consumersWaiting == 0 || !items.isEmpty) { condition.wait() }
        return !closed
    }

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
        consumersWaiting += 1
        condition.broadcast()
        while items.isEmpty && !closed { condition.wait() }
        consumersWaiting -= 1
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

/// What the producer hands over: a prepared image, or the next event of a video.
enum PipelineItem: @unchecked Sendable {
    case image(PreparedInput)
    case video(InputImage, VideoEvent)
}

/// A video's events arrive in this order: `opened`, its frames, `ended`; a video
/// that cannot be opened sends `ended` with the error alone.
enum VideoEvent {
    case opened(VideoInfo)
    case frame(PreparedFrame)
    /// nil: the stream ended cleanly; otherwise why no more frames follow.
    case ended(VideoError?)
}

/// One decoded frame, ready for the model when it is one to process.
struct PreparedFrame {
    let index: Int
    let pts: Int64
    let time: Double
    /// nil for a frame not to process (between --every frames, or done in the run
    /// being resumed): it is only passed on for the annotated video.
    let prepared: DetectionTransform.Prepared?
    /// Kept only when the annotated video is written.
    let image: RGBImage?
}

/// Which frames of a video the producer prepares for the model.
struct FrameSelection: Sendable {
    /// Every Nth frame (index % every == 0).
    var every = 1
    /// Frames of each video already in the --output file being resumed.
    var done: [String: Set<Int>] = [:]
    /// Pass every frame on with its image (the annotated video has them all).
    var keepAllFrames = false
}

enum PredictionPipeline {
    /// Starts the producer thread and returns the queue it fills; the queue is
    /// closed after the last input. Close it from the consumer side to stop early.
    /// prefetch: decode the next inputs while the model runs (one more busy thread);
    /// false decodes each input only when the consumer asks for it.
    static func start(inputs: [InputImage], detector: Detector, keepImages: Bool, frames: FrameSelection = FrameSelection(),
                      depth: Int = 2, prefetch: Bool = true) -> BoundedQueue<PipelineItem> {
        let queue = BoundedQueue<PipelineItem>(capacity: depth, prefetch: prefetch)
        let thread = Thread {
            for input in inputs {
                guard queue.awaitDemand() else { break }
                if input.isVideo {
                    if !produceFrames(of: input, detector: detector, selection: frames, into: queue) { break }
                    continue
                }
                let item = PreparedInput(input: input, result: Result {
                    let image = try decode(input.file)
                    return PreparedInput.Ready(prepared: detector.prepare(image), image: keepImages ? image : nil)
                })
                if !queue.put(.image(item)) { break }
            }
            queue.close()
        }
        thread.name = "vision.decode"
        thread.start()
        return queue
    }

    /// Decodes `input`'s frames in order, preparing the selected ones. Returns false
    /// when the consumer has gone.
    private static func produceFrames(of input: InputImage, detector: Detector, selection: FrameSelection,
                                      into queue: BoundedQueue<PipelineItem>) -> Bool {
        let reader: VideoReader
        do {
            reader = try VideoReader(path: input.file)
        } catch {
            return queue.put(.video(input, .ended(error as? VideoError ?? VideoError(file: input.file, reason: "\(error)"))))
        }
        guard queue.put(.video(input, .opened(reader.info))) else { return false }
        let done = selection.done[input.file] ?? []
        var index = 0
        while true {
            guard queue.awaitDemand() else { return false }
            let process = index % selection.every == 0 && !done.contains(index)
            let frame: VideoFrame?
            do {
                frame = try reader.nextFrame(convert: process || selection.keepAllFrames)
            } catch {
                return queue.put(.video(input, .ended(error as? VideoError ?? VideoError(file: input.file, reason: "\(error)"))))
            }
            guard let frame else { break }
            index += 1
            guard process || selection.keepAllFrames else { continue }
            let item = PreparedFrame(index: frame.index, pts: frame.pts, time: frame.time,
                                     prepared: process ? frame.image.map(detector.prepare) : nil,
                                     image: selection.keepAllFrames ? frame.image : nil)
            guard queue.put(.video(input, .frame(item))) else { return false }
        }
        return queue.put(.video(input, .ended(nil)))
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
