// Image-level parallelism for folder runs: `lanes` threads each take the next prepared
// image from the decoder's queue and run the whole detection on it, with a one-thread
// backend, while the other lanes do the same on other images. Splitting one image's
// kernels over the cores leaves them idle in the serial parts (RPN, NMS, RoIAlign
// bookkeeping, the small layers of the 320 model); whole images in parallel do not.
// Results leave in input order, so the output file is the same as a one-lane run's.
//
// Memory stays bounded: at most `lanes` images in detection, plus the decoder queue's
// and the ordered queue's capacities.

import Foundation
import VisionCore
import VisionDetection
import VisionImaging

/// A prepared image with its detections, computed by a lane.
struct DetectedInput: @unchecked Sendable {
    let input: InputImage
    /// The objects, or why the image could not be decoded.
    let result: Result<DetectedObjects, Error>
}

/// One image's objects, and the decoded image when annotated copies are written.
struct DetectedObjects {
    let objects: [DetectedObject]
    let image: RGBImage?
}

enum DetectionLanes {
    /// Starts `lanes` detection threads over the `.image` items of `source` (a run with
    /// no videos) and returns the queue of their results in input order; it closes after
    /// the last one. Close it from the consumer side to stop early.
    static func start(source: BoundedQueue<PipelineItem>, lanes: Int,
                      detect: @escaping @Sendable (DetectionTransform.Prepared) -> [DetectedObject]) -> BoundedQueue<DetectedInput> {
        let ordered = BoundedQueue<DetectedInput>(capacity: lanes + 1)
        let state = LaneState(lanes: lanes)
        for lane in 0..<lanes {
            let thread = Thread {
                while let (sequence, item) = state.next(from: source) {
                    guard case let .image(prepared) = item else { preconditionFailure("lanes run image-only inputs") }
                    let result = prepared.result.map { DetectedObjects(objects: detect($0.prepared), image: $0.image) }
                    if !state.deliver(DetectedInput(input: prepared.input, result: result), sequence: sequence, to: ordered) {
                        source.close()
                        break
                    }
                }
                if state.laneFinished() { ordered.close() }
            }
            thread.name = "vision.lane\(lane)"
            thread.start()
        }
        return ordered
    }
}

/// The lanes' shared bookkeeping: input sequence numbers and the reorder buffer.
private final class LaneState: @unchecked Sendable {
    private let takeLock = NSLock()
    private let deliverLock = NSLock()
    private var nextSequence = 0
    private var nextToEmit = 0
    private var waiting: [Int: DetectedInput] = [:]
    private var running: Int

    init(lanes: Int) { running = lanes }

    /// The next item with its position in the input order; nil when the source is done.
    func next(from source: BoundedQueue<PipelineItem>) -> (Int, PipelineItem)? {
        takeLock.lock()
        defer { takeLock.unlock() }
        guard let item = source.take() else { return nil }
        nextSequence += 1
        return (nextSequence - 1, item)
    }

    /// Hands over every result that is next in order. False once the consumer has gone.
    func deliver(_ result: DetectedInput, sequence: Int, to ordered: BoundedQueue<DetectedInput>) -> Bool {
        deliverLock.lock()
        defer { deliverLock.unlock() }
        waiting[sequence] = result
        while let ready = waiting.removeValue(forKey: nextToEmit) {
            guard ordered.put(ready) else { return false }
            nextToEmit += 1
        }
        return true
    }

    /// True for the last lane to finish.
    func laneFinished() -> Bool {
        deliverLock.lock()
        defer { deliverLock.unlock() }
        running -= 1
        return running == 0
    }
}

/// How `vision predict` spends its --threads: on one image's kernels, or on whole images
/// in parallel (one lane per thread, each with a one-thread backend).
struct ParallelismPlan {
    let lanes: Int
    let kernelThreads: KernelThreads

    /// Lanes only for runs of at least two images and no video: a video's frames are
    /// detected in order, and a single image gains nothing from a second lane.
    init(threads: KernelThreads, inputs: [InputImage]) {
        if threads.count > 1 && inputs.count >= 2 && !inputs.contains(where: \.isVideo) {
            lanes = min(threads.count, inputs.count)
            kernelThreads = .single
        } else {
            lanes = 1
            kernelThreads = threads
        }
    }
}
