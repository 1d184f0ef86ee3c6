// `vision --version`: the release this binary was built from (bumped with each release).

enum VisionVersion {
    static let current = "0.10.0"
}
