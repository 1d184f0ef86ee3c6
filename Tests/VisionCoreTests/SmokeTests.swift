import XCTest
import VisionCore

final class VisionCoreSmokeTests: XCTestCase {
    func testModuleLoads() { XCTAssertTrue(true) }
}
