// The compute seam as a GPU backend sees it. SimulatedDeviceBackend keeps every tensor
// it makes in device storage (TensorStorage(device:)): reading such a tensor's host
// pointer traps, so model code that touched a host pointer between `upload` and a
// named `readBack` would crash this test. Each operation takes its inputs' hidden host
// copies, runs the single-threaded CPU backend, and wraps the result as a device
// tensor again, so the detections must equal the CPU backend's bit for bit.

import Foundation
import VisionCheckpoint
import VisionCore
import VisionDetection
import VisionImaging
import XCTest

/// A device buffer whose contents only the simulated backend can see.
final class SimulatedDeviceBuffer: DeviceBuffer, @unchecked Sendable {
    let contents: Tensor
    init(_ contents: Tensor) { self.contents = contents }
    var deviceName: String { "the simulated device" }
}

final class SimulatedDeviceBackend: ComputeBackend, @unchecked Sendable {
    let cpu = CPUBackend(threads: .single, winogradRouting: .never)
    private let lock = NSLock()
    private(set) var readBacks: [ReadBackPoint: Int] = [:]
    private(set) var uploads = 0
    var name: String { "simulated device" }

    func device(_ t: Tensor) -> Tensor {
        Tensor(shape: t.shape, storage: TensorStorage(device: SimulatedDeviceBuffer(t), count: t.count))
    }

    /// The hidden contents of one of this backend's tensors; a host tensor here means the
    /// model handed the backend something it did not make.
    func host(_ t: Tensor) -> Tensor {
        guard let buffer = t.storage.device as? SimulatedDeviceBuffer else {
            preconditionFailure("a host tensor \(t.shape) was passed to the device backend")
        }
        return buffer.contents.reshaped(t.shape)
    }

    func upload(_ tensor: Tensor) -> Tensor {
        XCTAssertFalse(tensor.isOnDevice)
        lock.withLock { uploads += 1 }
        return device(tensor.copy())
    }

    func readBack(_ tensor: Tensor, at point: ReadBackPoint) -> Tensor {
        lock.withLock { readBacks[point, default: 0] += 1 }
        return host(tensor).copy()
    }

    func prepareConv2D(weight: Tensor, bias: Tensor?, parameters: Conv2DParameters) -> PreparedConv2D {
        cpu.prepareConv2D(weight: weight, bias: bias, parameters: parameters)
    }
    func conv2d(_ input: Tensor, _ conv: PreparedConv2D, activation: Activation) -> Tensor {
        device(cpu.conv2d(host(input), conv, activation: activation))
    }
    /// A device with its own fused block, as the CPU backend has.
    func invertedResidual(_ input: Tensor, _ block: InvertedResidualConvs) -> Tensor {
        device(cpu.invertedResidual(host(input), block))
    }
    func prepareLinear(weight: Tensor, bias: Tensor?) -> PreparedLinear { cpu.prepareLinear(weight: weight, bias: bias) }
    func linear(_ input: Tensor, _ layer: PreparedLinear, activation: Activation) -> Tensor {
        device(cpu.linear(host(input), layer, activation: activation))
    }
    func maxPool2d(_ input: Tensor, kernel: Int, stride: Int, padding: Int) -> Tensor {
        device(cpu.maxPool2d(host(input), kernel: kernel, stride: stride, padding: padding))
    }
    func globalAveragePool(_ input: Tensor) -> Tensor { device(cpu.globalAveragePool(host(input))) }
    func upsampleNearest(_ input: Tensor, height: Int, width: Int) -> Tensor {
        device(cpu.upsampleNearest(host(input), height: height, width: width))
    }
    func add(_ a: Tensor, _ b: Tensor, activation: Activation) -> Tensor {
        device(cpu.add(host(a), host(b), activation: activation))
    }
    func multiply(_ a: Tensor, _ b: Tensor) -> Tensor { device(cpu.multiply(host(a), host(b))) }
    func scaleChannels(_ input: Tensor, by scale: Tensor) -> Tensor { device(cpu.scaleChannels(host(input), by: host(scale))) }
    func activate(_ input: Tensor, _ activation: Activation) -> Tensor { device(cpu.activate(host(input), activation)) }
    func softmax(_ input: Tensor) -> Tensor { device(cpu.softmax(host(input))) }
    func concat(_ inputs: [Tensor], axis: Int) -> Tensor { device(cpu.concat(inputs.map(host), axis: axis)) }
    func topK(_ input: Tensor, k: Int) -> (values: [Float], indices: [Int]) { cpu.topK(host(input), k: k) }
    func roiAlign(_ features: [Tensor], _ request: RoIAlignRequest) -> Tensor {
        device(cpu.roiAlign(features.map(host), request))
    }
    func anchorsLast(_ input: Tensor, image: Int, valuesPerAnchor: Int) -> Tensor {
        device(cpu.anchorsLast(host(input), image: image, valuesPerAnchor: valuesPerAnchor))
    }
    func gatherAnchors(_ input: Tensor, image: Int, valuesPerAnchor: Int, rows indices: [Int]) -> Tensor {
        device(cpu.gatherAnchors(host(input), image: image, valuesPerAnchor: valuesPerAnchor, rows: indices))
    }
}

final class DeviceSeamTests: XCTestCase {
    func flattened(_ d: Detections) -> [Float] { d.boxes.coordinates + d.scores + d.labels.map(Float.init) }

    /// Every fixture architecture runs on the simulated device with host reads only at the
    /// named points, and gives exactly what the CPU backend gives.
    func testModelsReadDeviceTensorsOnlyAtNamedPoints() throws {
        let dir = FasterRCNNParityTests.fixtures
        let images = try ["pets.png", "hot_dog_gray.png"].map {
            try ImageDecoder.decode(contentsOf: dir.appendingPathComponent($0)).toTensor()
        }
        for arch in ["fasterrcnn_mobilenet_v3_large_fpn", "fasterrcnn_mobilenet_v2_fpn", "fasterrcnn_resnet50_fpn",
                     "fasterrcnn_resnet50_fpn_v2"] {
            let config = try ModelConfig.load(file: dir.appendingPathComponent("\(arch).json"))
            let (state, _) = try loadStateDict(from: dir.appendingPathComponent("\(arch).safetensors"))
            let simulated = SimulatedDeviceBackend()
            let onDevice = try FasterRCNN(config: config, stateDict: state, source: arch, backend: simulated)
            let onCPU = try FasterRCNN(config: config, stateDict: state, source: arch,
                                       backend: CPUBackend(threads: .single, winogradRouting: .never))
            for image in images {
                let expected = onCPU.detect([image])[0]
                let got = onDevice.detect([image])[0]
                XCTAssertEqual(flattened(got), flattened(expected), "\(arch): device and CPU detections differ")
            }
            XCTAssertEqual(simulated.uploads, images.count, "\(arch): one upload per detect (the image batch)")
            XCTAssertEqual(simulated.readBacks[.boxPredictions], 2 * images.count, "\(arch): scores and deltas per detect")
            XCTAssertGreaterThan(simulated.readBacks[.rpnPredictions] ?? 0, 0, "\(arch)")
            XCTAssertNil(simulated.readBacks[.trace], "\(arch): nothing read for a trace nobody asked for")
            XCTAssertEqual(Set(simulated.readBacks.keys), [.rpnPredictions, .boxPredictions], "\(arch)")
        }
    }
}
