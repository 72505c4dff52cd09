public enum FireflyCoreVersion { public static let version = "0.1.0" }
