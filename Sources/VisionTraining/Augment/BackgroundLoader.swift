// Prepares training steps ahead of the step being trained, on `workers` threads, at
// most `capacity` steps ahead (a bounded queue: memory stays a few batches). Steps are
// handed out in order; each is a pure function of its position (StepPreparation),
// so which worker prepared it, and when, never changes what the trainer gets.

import Foundation

public final class BackgroundLoader: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [Int: PreparedStep] = [:]
    /// The next step a worker takes, and the next one the trainer takes.
    private var nextToPrepare: Int, nextToTake: Int
    private let end: Int, capacity: Int
    private var cancelled = false
    private var running = 0

    private let positions: [StepPosition]

    /// Prepares the steps at `positions`, in order.
    public init(preparation: StepPreparation, positions: [StepPosition], workers: Int, capacity: Int) {
        self.positions = positions
        nextToPrepare = 0
        nextToTake = 0
        end = positions.count
        self.capacity = max(1, capacity)
        running = max(1, workers)
        for _ in 0..<running {
            let thread = Thread { [self] in work(preparation) }
            thread.name = "vision-train-loader"
            thread.start()
        }
    }

    deinit { cancel() }

    private func work(_ preparation: StepPreparation) {
        while true {
            condition.lock()
            while !cancelled && nextToPrepare < end && nextToPrepare - nextToTake >= capacity { condition.wait() }
            guard !cancelled && nextToPrepare < end else {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let step = nextToPrepare
            nextToPrepare += 1
            condition.unlock()
            let prepared = preparation.prepare(positions[step])
            condition.lock()
            ready[step] = prepared
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The inputs of the next step (waits until they are ready).
    public func next() -> PreparedStep {
        condition.lock()
        defer { condition.unlock() }
        let step = nextToTake
        precondition(step < end, "BackgroundLoader: all \(end) steps were taken")
        while ready[step] == nil { condition.wait() }
        nextToTake += 1
        condition.broadcast()
        return ready.removeValue(forKey: step)!
    }

    /// Stops the workers (a step being prepared is finished and dropped) and waits for them.
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        ready.removeAll()
        condition.unlock()
    }
}
