import ArgumentParser
import VisionCore
import VisionDetection

@main
struct Vision: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vision",
        abstract: "Object detection (Faster R-CNN, torchvision-compatible) on images and folders.",
        discussion: """
            With no --checkpoint, predict uses the shipped blood-cell model (classes WBC, RBC, Platelets); \
            torchvision's COCO models are fetched with `vision checkpoint download`.

            Examples:
              vision predict Samples/bccd/JPEGImages/BloodImage_00007.jpg \\
                  --min-prob 0.7 -k WBC -k Platelets
              vision predict Samples/bccd/JPEGImages -o predictions.jsonl -d annotated/
              vision checkpoint download fasterrcnn_mobilenet_v3_large_320_fpn
              vision predict Samples/photos/ -o coco.jsonl -d annotated-coco/ \\
                  --checkpoint fasterrcnn_mobilenet_v3_large_320_fpn
            """,
        version: VisionVersion.current,
        // One file per subcommand in Sources/vision/.
        subcommands: [
            PredictCommand.self,
            TrainCommand.self,
            CheckpointCommand.self,
            EvalCommand.self,
            DatasetCommand.self,
            ServeCommand.self,
        ])

    static func main() {
        MemoryTuning.reuseFreedMemory()
        main(nil)
    }
}
