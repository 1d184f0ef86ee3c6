// `vision checkpoint download NAME`: fetches published weights into the store
// (ModelDownload does the work; predict, eval and train call it on first use too).

import ArgumentParser
import Foundation
import VisionDetection

struct CheckpointDownload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Download a published model into $VISION_HOME/checkpoints (checksum verified).")

    @Argument(help: ArgumentHelp("A model name from `vision checkpoint list`, or an alias (fast, accurate).", valueName: "name"))
    var name: String

    @Flag(help: "Download again even if the file is already in the store.")
    var force = false

    @Flag(help: "No progress on standard error.")
    var quiet = false

    func run() throws {
        let published = ModelStore.published()
        let resolvedName = CheckpointResolver.aliases[name] ?? name
        guard let model = published.first(where: { $0.name == resolvedName }) else {
            throw CheckpointCommandError.unknownModel(name: name, known: published.map(\.name) + CheckpointResolver.aliases.keys.sorted())
        }
        if model.isDownloaded && !force {
            print("\(model.name): already downloaded: \(model.storePath.path) (--force to fetch again)")
            return
        }
        let digest = try ModelDownload.fetch(model, quiet: quiet)
        print("\(model.name): \(model.storePath.path) (sha256 \(digest.prefix(16))..., \(CheckpointInfo.byteCount(of: model.storePath)))")
        print("use it with: vision predict --checkpoint \(name) PATH...")
    }
}
