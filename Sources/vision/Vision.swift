import ArgumentParser
import VisionCore
import VisionDetection

@main
struct Vision: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vision",
        abstract: "Object detection (Faster R-CNN, torchvision-compatible) on images, folders and videos.",
        discussion: """
            With no --checkpoint, predict uses the shipped blood-cell model (bccd: WBC, RBC, Platelets). \
            For everyday objects name a published COCO model or its alias, --checkpoint fast or \
            --checkpoint accurate: it is downloaded on first use (VISION_OFFLINE=1 forbids that).

            Examples:
              vision predict Samples/bccd/JPEGImages/BloodImage_00007.jpg \\
                  --min-prob 0.7 -k WBC -k Platelets
              vision predict Samples/bccd/JPEGImages -o predictions.jsonl -d annotated/
              vision predict Samples/photos/ --checkpoint fast -d annotated-coco/
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
            DevicesCommand.self,
        ])

    static func main() {
        MemoryTuning.reuseFreedMemory()
        CPUBackend.configureOpenBLAS()
        main(nil)
    }
}
