import XCTest
import VisionImaging

final class VisionImagingSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
