/// The `forceRoute` request field (API.md §5.2).
public enum ForceRoute: String, Sendable, Hashable, Codable, CaseIterable {
    case auto = "AUTO"
    case sms = "SMS"
    case mms = "MMS"
}

/// How a text-channel message goes out.
public enum MessageRoute: String, Sendable, Hashable, Codable, CaseIterable {
    case sms = "SMS"
    case mms = "MMS"

    /// Resolves the route (API.md §5.2 `mediaUrl`, `forceRoute`): media always means MMS, whatever
    /// `forceRoute` says; otherwise `MMS` forces MMS and `AUTO`/`SMS` give SMS.
    public static func resolve(forceRoute: ForceRoute = .auto, hasMedia: Bool) -> MessageRoute {
        if hasMedia { return .mms }
        return forceRoute == .mms ? .mms : .sms
    }
}
