import XCTest
import VisionData
