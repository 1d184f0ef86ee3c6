import XCTest
import VisionTraining
