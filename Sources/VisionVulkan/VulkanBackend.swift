// The Vulkan compute backend: every ComputeBackend operation as a kernel of
// Kernels/Vulkan/ on one Vulkan device (any vendor's GPU, or Mesa's lavapipe on a CPU).
//
// Tensors it makes live in device buffers (TensorStorage(device:)); weights are uploaded
// once by prepareConv2D/prepareLinear. Operations only record kernel launches into one
// command buffer; the recorded work runs when the host needs values: readBack, topK,
// and batches of weight uploads at load. So a forward pass runs as a few submits, not one
// per operation. The loader is opened at run time (`loaderPath`), so a program using this
// backend starts, and its other backends work, where no Vulkan is installed.
//
// Files: VulkanConvolution.swift (conv, linear), VulkanFeatureOps.swift (pooling, upsample,
// element-wise, softmax, concat), VulkanDetectionOps.swift (top-k, RoIAlign, anchor order).

import CVulkan
import VisionCore

public final class VulkanBackend: ComputeBackend, @unchecked Sendable {
    /// The Vulkan loader's soname on Linux.
    public static let defaultLoaderPath = "libvulkan.so.1"

    let context: VulkanContext

    public var name: String { "vulkan" }
    /// The device this backend runs on.
    public var device: VulkanDeviceInfo { context.device }
    /// Counts of uploads, read-backs, dispatches and submits so far.
    public var activity: VulkanActivity { locked { context.activity } }

    /// Opens `loaderPath` and device `device` of its list (see `devices`).
    /// Throws a one-line VulkanError when the loader, a driver or the device is missing.
    public init(device index: Int = 0, loaderPath: String = VulkanBackend.defaultLoaderPath) throws {
        do {
            context = try VulkanContext(loaderPath: loaderPath, deviceIndex: index)
        } catch let error as VulkanError {
            throw VulkanError("vulkan backend unavailable: \(error.description)")
        }
    }

    /// The devices the loader at `loaderPath` lists, in --device order.
    public static func devices(loaderPath: String = defaultLoaderPath) throws -> [VulkanDeviceInfo] {
        var error = [CChar](repeating: 0, count: 512)
        var raw = [vkr_device_info](repeating: vkr_device_info(), count: 64)
        var count: Int32 = 0
        guard vkr_list_devices(loaderPath, &raw, Int32(raw.count), &count, &error, error.count) == 0 else {
            throw VulkanError("vulkan unavailable: \(String(cString: error))")
        }
        return (0..<Int(min(count, 64))).map { VulkanDeviceInfo(index: $0, raw[$0]) }
    }

    /// Device `device`, or nil when this machine has no Vulkan device at all (no loader,
    /// no driver, or an empty device list); throws when devices exist but this one cannot
    /// be opened. Tests skip on nil.
    public static func openIfPresent(device index: Int = 0, loaderPath: String = defaultLoaderPath) throws -> VulkanBackend? {
        guard let devices = try? Self.devices(loaderPath: loaderPath), !devices.isEmpty else { return nil }
        return try VulkanBackend(device: index, loaderPath: loaderPath)
    }

    // MARK: - The seam

    public func upload(_ tensor: Tensor) -> Tensor {
        precondition(!tensor.isOnDevice, "vulkan: upload of a tensor already on \(tensor.storage.device!.deviceName)")
        return locked {
            let (out, buffer) = makeTensor(tensor.shape)
            tensor.withUnsafeBufferPointer { context.upload(UnsafeRawBufferPointer($0), into: buffer) }
            return out
        }
    }

    public func readBack(_ tensor: Tensor, at point: ReadBackPoint) -> Tensor {
        guard tensor.isOnDevice else { return tensor }
        return locked {
            context.activity.readBacks[point, default: 0] += 1
            let buffer = self.buffer(tensor, "readBack")
            let out = Tensor(uninitializedShape: tensor.shape)
            context.read(buffer, count: tensor.count, into: out.storage.pointer)
            return out
        }
    }

    // MARK: - Helpers for the operation files

    /// `body` with the device to itself.
    func locked<R>(_ body: () -> R) -> R {
        context.lock.lock()
        defer { context.lock.unlock() }
        return body()
    }

    /// A new device tensor of `shape` (contents undefined until a kernel writes them).
    func makeTensor(_ shape: [Int]) -> (Tensor, VulkanBuffer) {
        let count = Tensor.elementCount(shape)
        let buffer = context.deviceBuffer(floats: count)
        return (Tensor(shape: shape, storage: TensorStorage(device: buffer, count: count)), buffer)
    }

    /// The device buffer of one of this backend's tensors; anything else is a caller's bug.
    func buffer(_ tensor: Tensor, _ operation: String) -> VulkanBuffer {
        guard let b = tensor.storage.device as? VulkanBuffer, b.context === context else {
            preconditionFailure(tensor.isOnDevice
                ? "vulkan \(operation): a tensor \(tensor.shape) of another device (\(tensor.storage.device!.deviceName))"
                : "vulkan \(operation): a host tensor \(tensor.shape); upload it first")
        }
        return b
    }

    /// Host values uploaded into a new device buffer (weights, at load).
    func deviceCopy(of tensor: Tensor) -> VulkanBuffer {
        precondition(!tensor.isOnDevice, "vulkan: weights must come from the host")
        let buffer = context.deviceBuffer(floats: tensor.count)
        tensor.withUnsafeBufferPointer { context.upload(UnsafeRawBufferPointer($0), into: buffer) }
        return buffer
    }
}

/// What a Vulkan backend has done since it was made: the host-device traffic and how
/// the recorded work was batched.
public struct VulkanActivity: Sendable, Equatable {
    /// Host-to-device copies (each prepared weight and bias, each uploaded image batch) and their bytes.
    public var uploads = 0
    public var uploadedBytes = 0
    /// Device-to-host copies per read-back point (topK's scores count as .rpnPredictions).
    public var readBacks: [ReadBackPoint: Int] = [:]
    /// Kernel launches recorded, and submits of recorded work (each waited for).
    public var dispatches = 0
    public var submits = 0
}

extension Activation {
    /// The kernels' activation code (common.glsl's activate()).
    var vulkanCode: Int {
        switch self {
        case .identity: return 0
        case .relu: return 1
        case .relu6: return 2
        case .hardswish: return 3
        case .hardsigmoid: return 4
        case .sigmoid: return 5
        }
    }
}
