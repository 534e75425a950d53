/// A message split into the parts it is sent as.
public struct SplitMessage: Sendable, Hashable {
    public var encoding: MessageEncoding
    /// The text of each part, in order. Concatenated, they equal the input.
    public var parts: [String]

    public init(encoding: MessageEncoding, parts: [String]) {
        self.encoding = encoding
        self.parts = parts
    }
}

/// Splits an SMS body into the parts it is sent as (DOMAIN.md §1.4–1.5), by the same rules as
/// `SegmentCounter`:
/// - GSM-7 ≤ 160 septets → one part, else greedy parts of ≤ 153 septets; an extension character
///   (ESC + code, 2 septets) never straddles two parts (3GPP TS 23.040 §9.2.3.24.1).
/// - UCS-2 ≤ 70 code units → one part, else greedy parts of ≤ 67 UTF-16 code units that never
///   split a surrogate pair (TS 23.040 §9.2.3.24.1) or a grapheme cluster (Twilio's segment
///   calculator); a single cluster of more than 67 units is packed scalar by scalar, starting in
///   the current part.
public enum MessageSplitter {
    public static func split(_ text: String) -> SplitMessage {
        let counted = SegmentCounter.count(text)
        if counted.segments <= 1 {
            return SplitMessage(encoding: counted.encoding, parts: text.isEmpty ? [] : [text])
        }
        switch counted.encoding {
        case .gsm7:
            return SplitMessage(encoding: .gsm7, parts: splitGSM(text))
        case .ucs2:
            var parts: [String] = []
            packUCS2(text) { start, end in parts.append(String(text.unicodeScalars[start..<end])) }
            return SplitMessage(encoding: .ucs2, parts: parts)
        }
    }

    static func splitGSM(_ text: String) -> [String] {
        let limit = MessageEncoding.gsm7.multipartSegmentLimit
        let scalars = text.unicodeScalars
        var parts: [String] = []
        var start = scalars.startIndex
        var fill = 0
        var index = start
        while index < scalars.endIndex {
            let cost = GSM7Alphabet.septets(for: scalars[index])
            if fill + cost > limit {
                parts.append(String(scalars[start..<index]))
                start = index
                fill = 0
            }
            fill += cost
            scalars.formIndex(after: &index)
        }
        if start < scalars.endIndex { parts.append(String(scalars[start..<scalars.endIndex])) }
        return parts
    }

    /// Greedy UCS-2 packing into 67-unit parts; calls `emit` with each part's scalar range.
    /// Only meaningful for texts longer than 70 units (the caller decides single vs. multi).
    ///
    /// Walks scalars and only does grapheme breaking where a cut is needed: if the scalar that
    /// does not fit is inside a cluster, the part ends where that cluster starts, unless the
    /// cluster alone exceeds 67 units (then it is cut right there, between scalars). Gives the
    /// same parts as `packUCS2ByCharacters`, several times faster.
    static func packUCS2(_ text: String, emit: (String.Index, String.Index) -> Void) {
        let limit = MessageEncoding.ucs2.multipartSegmentLimit
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var fill = 0
        var index = start
        while index < scalars.endIndex {
            let units = scalars[index].value > 0xFFFF ? 2 : 1
            if fill + units > limit {
                // String.index(after:) rounds a non-Character-aligned index down to the start of
                // its cluster, so this yields the cluster [clusterStart, clusterEnd) holding `index`.
                let clusterEnd = text.index(after: index)
                let clusterStart = text.index(before: clusterEnd)
                let cut: String.Index
                if clusterStart == index || clusterStart <= start
                    || text.utf16.distance(from: clusterStart, to: clusterEnd) > limit {
                    cut = index
                } else {
                    cut = clusterStart
                }
                emit(start, cut)
                start = cut
                index = cut
                fill = 0
                continue
            }
            fill += units
            scalars.formIndex(after: &index)
        }
        if start < scalars.endIndex { emit(start, scalars.endIndex) }
    }

    /// Reference implementation of `packUCS2` iterating `Character`s (kept for tests).
    static func packUCS2ByCharacters(_ text: String, emit: (String.Index, String.Index) -> Void) {
        let limit = MessageEncoding.ucs2.multipartSegmentLimit
        var start = text.startIndex
        var fill = 0
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(after: index)
            let units = text.utf16.distance(from: index, to: next)
            if units <= limit {
                if fill + units > limit {
                    emit(start, index)
                    start = index
                    fill = 0
                }
                fill += units
            } else {
                // A cluster that cannot fit in any part: split it at scalar boundaries.
                var scalarIndex = index
                while scalarIndex < next {
                    let scalarUnits = text.unicodeScalars[scalarIndex].utf16.count
                    if fill + scalarUnits > limit {
                        emit(start, scalarIndex)
                        start = scalarIndex
                        fill = 0
                    }
                    fill += scalarUnits
                    text.unicodeScalars.formIndex(after: &scalarIndex)
                }
            }
            index = next
        }
        if start < text.endIndex { emit(start, text.endIndex) }
    }
}
