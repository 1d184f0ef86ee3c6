// libFuzzer target: the EXIF orientation reader (a TIFF structure: byte order,
// IFD0 offset, 12-byte entries) and the transform it selects, applied to a
// small image. Seeds: the APP1 payloads of the committed JPEG fixtures.

import VisionImaging

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let tiff = UnsafeBufferPointer(start: bytes, count: size)
    guard let orientation = ExifOrientation(tiff: tiff) else { return 0 }
    // A 3x2 image: the transform must keep every pixel and swap the sides for 5...8.
    let image = RGBImage(width: 3, height: 2, pixels: (0..<18).map { UInt8($0) })
    let upright = orientation.apply(to: image)
    check(upright.pixels.sorted() == image.pixels.sorted(), "orientation \(orientation) lost pixels")
    check((upright.width, upright.height) == (orientation.swapsAxes ? (2, 3) : (3, 2)), "orientation \(orientation) size")
    return 0
}
