// Why the Vulkan backend could not start: one line, naming what is missing.

/// A failure to open the Vulkan loader, find a device or set one up.
public struct VulkanError: Error, CustomStringConvertible, Sendable {
    public let description: String

    public init(_ description: String) { self.description = description }
}
