import XCTest
import VisionDetection

final class VisionDetectionSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
