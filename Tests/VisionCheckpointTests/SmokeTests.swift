import XCTest
import VisionCheckpoint

final class VisionCheckpointSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
