// The one-step parity fixtures (training/<name>.f32 + <name>.json, written by
// generate_training_resnet50.py and generate_training_resnet50_v2.py): loading, the batch
// they were made on, and the step with torch's proposals, whose samplers, RoIs and four
// losses must match torch's.

import Foundation
import VisionCore
import VisionDetection
import VisionTraining
import XCTest

/// training/<name>.f32 and <name>.json (FixtureBlob layout): the fixture and its params' "step" section.
func loadStepFixture(_ name: String) throws -> (TrainingFixtures, [String: Any]) {
    let f = try TrainingFixtures.load(data: "\(name).f32", index: "\(name).json")
    guard let step = f.params["step"] as? [String: Any] else { throw TrainingFixtureError("training/\(name).json: no params.step") }
    return (f, step)
}

struct StepFixture {
    let arrays: TrainingFixtures
    /// params.step of the fixture.
    let step: [String: Any]
    /// torch's permutations (first entries) and their lengths, in draw order.
    let prefixes: [[Int]]
    let lengths: [Int]
    /// The parameters whose gradients the fixture holds.
    let parameters: [String]
    /// The RPN's proposals per image (resized-image pixels).
    let torchProposals: [Boxes]

    init(_ name: String) throws {
        (arrays, step) = try loadStepFixture(name)
        guard let count = step["perms"] as? Int, let lengths = step["perm_lengths"] as? [Int],
              let parameters = step["parameters"] as? [String]
        else { throw TrainingFixtureError("\(name).json: step params missing") }
        let f = arrays
        prefixes = try (0..<count).map { try f.integers("perm_\($0)") }
        self.lengths = lengths
        self.parameters = parameters
        torchProposals = try (0..<2).map { Boxes(coordinates: try f.array("proposals_\($0)")) }
    }

    /// pets.png + hot_dog_gray.png with the fixture's GT boxes and labels.
    func batch(transform: DetectionTransform) throws -> TrainingBatch {
        let samples = try ["pets.png", "hot_dog_gray.png"].enumerated().map { i, name in
            TrainingSample(image: try fixtureImage(name), boxes: Boxes(coordinates: try arrays.array("gt_\(i)")),
                           labels: try arrays.integers("gt_labels_\(i)"))
        }
        return TrainingBatch(samples: samples, transform: transform)
    }

    /// One forward/backward with torch's proposals and permutations: the samplers draw exactly
    /// torch's permutations, the RoIs the box head sees and the four losses (1e-3) match.
    func stepWithTorchProposals(_ model: TrainableFasterRCNN, label: String,
                                file: StaticString = #filePath, line: UInt = #line) throws -> TrainingLosses {
        let trace = TrainingStepTrace()
        var perms = PrefixPermutations(prefixes: prefixes, lengths: lengths)
        let losses = model.forwardBackward(try batch(transform: model.transform), permutations: &perms,
                                           proposals: torchProposals, trace: trace, threads: .allCores)
        XCTAssertTrue(perms.prefixes.isEmpty, "the samplers must draw exactly torch's permutations", file: file, line: line)
        for i in 0..<2 {
            assertRelative(trace.sampledProposals[i].coordinates, try arrays.array("sampled_proposals_\(i)"),
                           tolerance: 1e-6, "\(label) image \(i): RoIs sampled for the box head (GT appended)", file: file, line: line)
        }
        let got = [losses.objectness, losses.rpnBoxRegression, losses.classifier, losses.boxRegression]
        for (value, name) in zip(got, ["objectness", "rpn_box_reg", "classifier", "box_reg"]) {
            assertRelative(value, try arrays.array("loss_\(name)")[0], tolerance: 1e-3, "\(label) loss_\(name)", file: file, line: line)
        }
        return losses
    }
}
