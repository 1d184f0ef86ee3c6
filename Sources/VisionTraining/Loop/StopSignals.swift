// SIGINT / SIGTERM handling for a training run: the default handlers are replaced by
// DispatchSource handlers that only record the request; the loop finishes its step,
// saves, and exits with 128 + signal (130 / 143).

import Dispatch
import Foundation
import Glibc

public final class StopSignals: @unchecked Sendable {
    private let lock = NSLock()
    private var received: Int32 = 0
    private var sources: [DispatchSourceSignal] = []

    public init() {}

    /// Installs the handlers (call once, from the main thread).
    public func install() {
        for sig in [SIGINT, SIGTERM] {
            Glibc.signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: DispatchQueue.global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock(); if self.received == 0 { self.received = sig }; self.lock.unlock()
                FileHandle.standardError.write(Data("\nreceived signal \(sig): finishing the step, then saving\n".utf8))
            }
            source.resume()
            sources.append(source)
        }
    }

    /// The first signal received, 0 while none.
    public var signal: Int32 { lock.lock(); defer { lock.unlock() }; return received }

    /// Test hook and programmatic stop.
    public func request(_ sig: Int32) { lock.lock(); if received == 0 { received = sig }; lock.unlock() }
}
