// What the rest of the project needs of a detection model at inference: images in,
// boxes out. Detector, validation, predict, eval and serve hold `any DetectionModel`,
// so another family (RetinaNet, SSD) is new files and one case in `DetectionModels.make`,
// not a fork of the callers.

import VisionCheckpoint
import VisionCore

public protocol DetectionModel: AnyObject, Sendable {
    /// The architecture with the class count and head width the checkpoint gave.
    var config: ModelConfig { get }
    /// The backend every operation of the model runs on.
    var backend: ComputeBackend { get }
    /// Normalise + resize (+ pad at batching): torchvision's GeneralizedRCNNTransform.
    var inputTransform: DetectionTransform { get }
    /// Detections per image for images already passed through `inputTransform.prepare`,
    /// boxes in each image's original pixels. `timings`, when given, receives the seconds
    /// spent per stage (added to what it holds).
    func detect(prepared: [DetectionTransform.Prepared], timings: UnsafeMutablePointer<StageTimings>?) -> [Detections]
}

extension DetectionModel {
    /// Detects objects in images [3, H, W] (or [1, 3, H, W]) with values in [0, 1].
    public func detect(_ images: [Tensor], timings: UnsafeMutablePointer<StageTimings>? = nil) -> [Detections] {
        var clock = StageClock(timings)
        clock.begin(.transform)
        let prepared = images.map { inputTransform.prepare($0) }
        clock.end()
        return detect(prepared: prepared, timings: timings)
    }

    public func detect(prepared: [DetectionTransform.Prepared]) -> [Detections] {
        detect(prepared: prepared, timings: nil)
    }
}

public enum DetectionModels {
    /// The model `config` describes, its weights read by name from `stateDict` (every
    /// missing, unused and wrong-shaped key reported, naming `source`).
    public static func make(config: ModelConfig, stateDict: StateDict, source: String,
                            backend: ComputeBackend = CPUBackend()) throws -> any DetectionModel {
        // Every architecture in Models/ is a Faster R-CNN so far.
        try FasterRCNN(config: config, stateDict: stateDict, source: source, backend: backend)
    }
}
