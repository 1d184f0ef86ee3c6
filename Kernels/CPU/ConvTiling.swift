// Block sizes of the convolution kernels, as a value: the defaults were tuned with
// vision-kernel-bench on this project's machine; the bench and the tests pass others
// (`--tile`, `--winograd-block`, small blocks that force many-block paths). No kernel
// reads a global setting.

public struct ConvTiling: Sendable, Equatable {
    /// im2col path (Conv2D.swift): target floats of (B + C) per row tile.
    public var tileFloats: Int
    /// Output maps smaller than this (pixels) with batch > 1 go through
    /// `conv2dBatchedSmallMaps`: one GEMM per several images instead of a thin one each.
    public var batchedMaxPlane: Int
    /// Target GEMM width (columns = images x output pixels) of the batched path.
    public var batchedColumns: Int
    /// Winograd (Conv2DWinograd.swift): tiles per block (the GEMMs' N): wide enough that
    /// OpenBLAS's packing of the weights is paid back, small enough that V and M stay in
    /// L2/L3 (one thread, CPU time: 64 channels prefer ~110 tiles, 256 channels
    /// 110..230; 192 with the cap below is within a few % of both).
    public var winogradBlockTiles: Int
    /// Cap on floats of V + M per Winograd block (per thread): 16 MiB.
    public var winogradBlockFloats: Int
    /// Fewest tiles per Winograd block: GEMMs narrower than this run far below peak.
    public var winogradMinBlockTiles: Int
    /// Fused inverted-residual block (InvertedResidualFused.swift): floats of one chunk's
    /// expanded and depthwise rows per thread.
    public var fusedBlockBandFloats: Int
    /// Blocks with smaller output maps (pixels per image) run as three convs: at 20x36 the
    /// fused block's thin GEMMs lose what it saves (vision-kernel-bench --only-blocks 1).
    public var fusedBlockMinPixels: Int

    public init(tileFloats: Int = 1 << 19, batchedMaxPlane: Int = 256, batchedColumns: Int = 1024,
                winogradBlockTiles: Int = 192, winogradBlockFloats: Int = 1 << 22, winogradMinBlockTiles: Int = 48,
                fusedBlockBandFloats: Int = 1 << 18, fusedBlockMinPixels: Int = 1024) {
        precondition(tileFloats >= 1 && batchedColumns >= 1 && winogradBlockTiles >= 1 && winogradBlockFloats >= 1
                     && winogradMinBlockTiles >= 1 && fusedBlockBandFloats >= 1, "ConvTiling sizes must be positive")
        self.tileFloats = tileFloats
        self.batchedMaxPlane = batchedMaxPlane
        self.batchedColumns = batchedColumns
        self.winogradBlockTiles = winogradBlockTiles
        self.winogradBlockFloats = winogradBlockFloats
        self.winogradMinBlockTiles = winogradMinBlockTiles
        self.fusedBlockBandFloats = fusedBlockBandFloats
        self.fusedBlockMinPixels = fusedBlockMinPixels
    }

    public static let standard = ConvTiling()
}
