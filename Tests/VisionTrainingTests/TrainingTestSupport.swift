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
