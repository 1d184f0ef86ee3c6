// The bounded worker pool behind POST /api/v1/predict. Detection is CPU-bound and
// blocking, so it runs on K dedicated threads, never on Swift's cooperative pool
// (which also runs the HTTP event handling). Requests wait in a FIFO of bounded
// length; one that finds it full is refused at once (503 + Retry-After) instead of
// piling up memory. Detectors are shared by the workers: a loaded Detector holds
// only read-only weights (inference allocates its own tensors per call), which
// ServeAPITests checks by comparing concurrent answers with `vision predict`'s.

import Foundation

final class DetectionWorkerPool: @unchecked Sendable {
    /// The queue was full: the caller answers 503.
    struct Busy: Error {}
    /// The pool stopped before the job ran (server shutting down).
    struct Stopped: Error {}

    private struct Job {
        let work: () -> Void
        let refuse: () -> Void
    }

    private let condition = NSCondition()
    private var waiting: [Job] = []
    private var running = 0
    private var stopped = false
    let queueCapacity: Int
    let workers: Int
    private let observe: @Sendable (_ queued: Int, _ running: Int) -> Void

    /// workers: threads running jobs; queueCapacity: jobs allowed to wait for one.
    /// observe: called with the queue length and running count after each change.
    init(workers: Int, queueCapacity: Int, observe: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) {
        self.workers = max(1, workers)
        self.queueCapacity = max(0, queueCapacity)
        self.observe = observe
        for index in 0..<self.workers {
            let thread = Thread { [self] in workLoop() }
            thread.name = "vision.serve.worker\(index)"
            // The main thread's 8 MB, as `vision predict` runs the network with (a new thread's default may be less).
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    /// Runs `body` on a worker and returns its result; throws Busy at once when
    /// every worker is busy and the queue is full.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let job = Job(work: { continuation.resume(with: Result { try body() }) },
                          refuse: { continuation.resume(throwing: Stopped()) })
            condition.lock()
            // Jobs beyond the idle workers wait; at most queueCapacity of them.
            let idleWorkers = workers - running
            guard !stopped, waiting.count < queueCapacity + idleWorkers else {
                let isStopped = stopped
                condition.unlock()
                continuation.resume(throwing: isStopped ? Stopped() : Busy())
                return
            }
            waiting.append(job)
            notifyLocked()
            condition.signal()
            condition.unlock()
        }
    }

    /// True when a job submitted now would be refused: lets a request be turned
    /// away before its body is read.
    var isFull: Bool {
        condition.lock()
        defer { condition.unlock() }
        return stopped || waiting.count >= queueCapacity + (workers - running)
    }

    /// Jobs waiting for a worker (not counting running ones).
    var queueLength: Int {
        condition.lock()
        defer { condition.unlock() }
        return max(0, waiting.count - max(0, workers - running))
    }

    /// Refuses the jobs still waiting and lets the workers exit once idle.
    func stop() {
        condition.lock()
        stopped = true
        let refused = waiting
        waiting.removeAll()
        condition.broadcast()
        condition.unlock()
        for job in refused { job.refuse() }
    }

    private func workLoop() {
        while true {
            condition.lock()
            while waiting.isEmpty && !stopped { condition.wait() }
            guard !waiting.isEmpty else {
                condition.unlock()
                return
            }
            let job = waiting.removeFirst()
            running += 1
            notifyLocked()
            condition.unlock()

            job.work()

            condition.lock()
            running -= 1
            notifyLocked()
            condition.unlock()
        }
    }

    private func notifyLocked() {
        let queued = max(0, waiting.count - max(0, workers - running))
        observe(queued, running)
    }
}
