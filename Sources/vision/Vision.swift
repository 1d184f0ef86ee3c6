import ArgumentParser
import VisionDetection

@main
struct Vision: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vision",
        abstract: "Object detection on images and folders: predict, train, eval.")
}
