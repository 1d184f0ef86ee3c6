// Fixture loading, a tiny training configuration and checks shared by the training tests.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionTraining
import XCTest

/// A reduced-width parity fixture's model definition and weights (Tests/Fixtures/model/<name>.*).
func fixtureModel(named name: String) throws -> (ModelConfig, StateDict) {
    let config = try ModelConfig.load(file: try fixtureURL("model/\(name).json"))
    let (state, _) = try loadStateDict(from: try fixtureURL("model/\(name).safetensors"))
    return (config, state)
}

/// `config` at 96/128 pixels with small proposal and sampler batches and `numClasses`
/// classes: a fixture architecture sized for tests that take real SGD steps.
func tinyTrainingConfig(_ config: ModelConfig, numClasses: Int) -> ModelConfig {
    var c = config
    c.minSize = 96
    c.maxSize = 128
    c.rpnPreNMSTopNTrain = 300
    c.rpnPostNMSTopNTrain = 300
    c.rpnBatchSizePerImage = 64
    c.boxBatchSizePerImage = 64
    c.numClasses = numClasses
    return c
}

/// Two 128x96 images of noise with a red square (class 1) and a blue bar (class 2).
func syntheticTrainingSamples() -> [TrainingSample] {
    var rng = TrainingRNG(seed: 42)
    return (0..<2).map { _ in
        let h = 96, w = 128
        var values = [Float](repeating: 0, count: 3 * h * w)
        for i in 0..<(h * w) {
            let v = 0.25 + rng.uniform() * 0.25
            for c in 0..<3 { values[c * h * w + i] = v }
        }
        func fill(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ rgb: [Float]) {
            for y in y0..<y1 { for x in x0..<x1 { for c in 0..<3 { values[c * h * w + y * w + x] = rgb[c] } } }
        }
        let sx = 8 + Int(rng.uniform() * 50), sy = 8 + Int(rng.uniform() * 40)
        fill(sx, sy, sx + 30, sy + 30, [0.9, 0.1, 0.1])
        let bx = 70 + Int(rng.uniform() * 40), by = 10 + Int(rng.uniform() * 20)
        fill(bx, by, bx + 12, by + 60, [0.1, 0.1, 0.9])
        let boxes: [Float] = [Float(sx), Float(sy), Float(sx + 30), Float(sy + 30),
                              Float(bx), Float(by), Float(bx + 12), Float(by + 60)]
        return TrainingSample(image: Tensor(shape: [3, h, w], values: values), boxes: Boxes(coordinates: boxes), labels: [1, 2])
    }
}

/// `steps` SGD steps (learning rate 0.01, the samplers fed by TrainingRNG(seed: 7)) of `model`
/// on `batch`; returns each step's total loss and the means of the first and last three.
func overfit(_ model: TrainableFasterRCNN, _ batch: TrainingBatch, steps: Int) -> (losses: [Float], start: Float, end: Float) {
    let sgd = SGD(parameters: model.trainableParameters.map(\.variable), learningRate: 0.01)
    var rng = TrainingRNG(seed: 7)
    var losses: [Float] = []
    for _ in 0..<steps {
        sgd.zeroGrad()
        losses.append(model.forwardBackward(batch, permutations: &rng, threads: .allCores).total)
        sgd.step()
    }
    return (losses, losses.prefix(3).reduce(0, +) / 3, losses.suffix(3).reduce(0, +) / 3)
}

/// The trainable model built from `state` loads every key (nothing initialised), exports
/// exactly those keys with identical values, and an inference FasterRCNN built from the
/// export detects exactly what one built from `state` does on pets.png.
func assertTakesAndExportsEveryWeight(config: ModelConfig, state: StateDict, trainableBackboneLayers: Int,
                                      file: StaticString = #filePath, line: UInt = #line) throws {
    let model = try TrainableFasterRCNN(config: config, stateDict: state, source: "fixture",
                                        trainableBackboneLayers: trainableBackboneLayers)
    XCTAssertTrue(model.parameters.initialized.isEmpty, "initialised instead of loaded: \(model.parameters.initialized)",
                  file: file, line: line)
    let exported = model.stateDict()
    XCTAssertEqual(Set(exported.keys), Set(state.keys), "the trainable model has exactly the detector's keys", file: file, line: line)
    for key in state.keys {
        XCTAssertEqual(exported[key]?.values, state[key]?.values, key, file: file, line: line)
    }
    let reference = try FasterRCNN(config: config, stateDict: state, source: "fixture")
    let roundTrip = try FasterRCNN(config: config, stateDict: exported, source: "exported")
    let image = try fixtureImage("pets.png")
    let a = reference.detect([image.reshaped([1] + image.shape)])[0]
    let b = roundTrip.detect([image.reshaped([1] + image.shape)])[0]
    print("\(config.name) fixture: \(a.count) detections from the fixture, \(b.count) from the export")
    XCTAssertGreaterThan(a.count, 0, file: file, line: line)
    XCTAssertEqual(a.scores, b.scores, file: file, line: line)
    XCTAssertEqual(a.boxes.coordinates, b.boxes.coordinates, file: file, line: line)
}
