import XCTest
import VisionPlot

final class AxisScaleTests: XCTestCase {
    func testTickStepsAreOneTwoOrFiveTimesAPowerOfTen() {
        XCTAssertEqual(AxisTicks.step(0, 1), 0.2, accuracy: 1e-12)
        XCTAssertEqual(AxisTicks.step(0, 7.3), 2, accuracy: 1e-12)
        XCTAssertEqual(AxisTicks.step(0, 130), 20, accuracy: 1e-12)
        XCTAssertEqual(AxisTicks.step(0.001, 0.0042), 0.0005, accuracy: 1e-15)
        XCTAssertEqual(AxisTicks.step(0, 9), 2, accuracy: 1e-12)
    }

    func testLinearTicksCoverTheIntervalOnWholeSteps() {
        XCTAssertEqual(AxisTicks.linear(0, 1), [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        XCTAssertEqual(AxisTicks.linear(-3, 7.3), [-2, 0, 2, 4, 6])
        let nice = AxisTicks.niceInterval(0.13, 2.87)
        XCTAssertEqual(nice.lower, 0, accuracy: 1e-12)
        XCTAssertEqual(nice.upper, 3, accuracy: 1e-12)
        let flat = AxisTicks.niceInterval(5, 5)
        XCTAssertLessThan(flat.lower, 5)
        XCTAssertGreaterThan(flat.upper, 5)
    }

    func testLogScaleTicksArePowersOfTwoAndMapEvenly() {
        XCTAssertEqual(AxisTicks.powersOfTwo(10, 1100), [16, 32, 64, 128, 256, 512, 1024])
        let scale = AxisScale(kind: .log2, lower: 16, upper: 1024, from: 0, to: 600)
        XCTAssertEqual(scale.pixel(16), 0, accuracy: 1e-9)
        XCTAssertEqual(scale.pixel(128), 300, accuracy: 1e-9)
        XCTAssertEqual(scale.pixel(1024), 600, accuracy: 1e-9)
    }

    func testLinearScaleMapsYUpwards() {
        let y = AxisScale(lower: 0, upper: 2, from: 300, to: 100)
        XCTAssertEqual(y.pixel(0), 300)
        XCTAssertEqual(y.pixel(1), 200)
        XCTAssertEqual(y.pixel(2), 100)
        XCTAssertEqual(y.ticks.first, 0)
        XCTAssertEqual(y.ticks.last, 2)
    }

    func testTickLabelsCarryTheDecimalsTheStepNeeds() {
        XCTAssertEqual(AxisTicks.label(0.25, step: 0.05), "0.25")
        XCTAssertEqual(AxisTicks.label(0.4, step: 0.2), "0.4")
        XCTAssertEqual(AxisTicks.label(1000, step: 500), "1000")
        XCTAssertEqual(AxisTicks.label(0.00002, step: 0.00001), "2e-05")
        XCTAssertEqual(AxisTicks.label(0, step: 0.1), "0")
    }

    func testMovingAverageAveragesTheWindowSeenSoFar() {
        XCTAssertEqual(movingAverage([2, 4, 6, 8], window: 2), [2, 3, 5, 7])
        XCTAssertEqual(movingAverage([1, 2, 3], window: 10), [1, 1.5, 2])
    }
}
