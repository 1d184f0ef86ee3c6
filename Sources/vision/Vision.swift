import ArgumentParser
import VisionCore
import VisionDetection

@main
struct Vision: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vision",
        abstract: "Object detection (Faster R-CNN, torchvision-compatible) on images and folders.",
        discussion: """
            Examples:
              vision checkpoint download fasterrcnn_mobilenet_v3_large_320_fpn
              vision predict photos/ --checkpoint fasterrcnn_mobilenet_v3_large_320_fpn \\
                  -o predictions.jsonl -d annotated/
              vision predict photo.jpg --min-prob 0.7 -k person -k dog
            """,
        // One file per subcommand in Sources/vision/.
        subcommands: [
            PredictCommand.self,
            TrainCommand.self,
            CheckpointCommand.self,
            EvalCommand.self,
            DatasetCommand.self,
        ])

    static func main() {
        MemoryTuning.reuseFreedMemory()
        main(nil)
    }
}
