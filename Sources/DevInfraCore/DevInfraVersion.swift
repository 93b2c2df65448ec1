/// One version for both programs and the API document.
public enum DevInfraVersion {
    public static let current = "0.1.0"
}
