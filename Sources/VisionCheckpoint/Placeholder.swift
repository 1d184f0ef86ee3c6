import VisionCore
