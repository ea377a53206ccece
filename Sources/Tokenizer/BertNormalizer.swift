/// BERT's normalizer: deletes control characters and turns every whitespace character into a
/// space (`clean_text`), puts spaces around CJK ideographs so each becomes a word
/// (`handle_chinese_chars`), removes accents (`strip_accents`, which follows `lowercase` when null)
/// and lowercases.
struct BertNormalizer: Normalizer {
    let cleansText: Bool
    let isolatesChineseCharacters: Bool
    let stripsAccents: Bool
    let lowercases: Bool

    init(_ json: JSON) {
        cleansText = json["clean_text"]?.bool ?? true
        isolatesChineseCharacters = json["handle_chinese_chars"]?.bool ?? true
        lowercases = json["lowercase"]?.bool ?? true
        stripsAccents = json["strip_accents"]?.bool ?? lowercases
    }

    func normalize(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if cleansText {
                if scalar.isBERTWhitespace {
                    scalars.append(" ")
                    continue
                }
                if scalar.value == 0 || scalar.value == 0xFFFD || scalar.isOtherCategory { continue }
            }
            if isolatesChineseCharacters, scalar.isCJKIdeograph {
                scalars.append(" ")
                scalars.append(scalar)
                scalars.append(" ")
            } else {
                scalars.append(scalar)
            }
        }
        var result = String(scalars)
        if stripsAccents {
            // Only nonspacing marks: unlike StripAccents, the spacing vowel signs of Indic scripts stay.
            var kept = String.UnicodeScalarView()
            kept.append(contentsOf: UnicodeNormalizer(form: .nfd).normalize(result).unicodeScalars.filter { !$0.isNonspacingMark })
            result = String(kept)
        }
        if lowercases { result = LowercaseNormalizer().normalize(result) }
        return result
    }
}

extension Unicode.Scalar {
    /// Tab, newline and carriage return (control characters) count as whitespace too.
    fileprivate var isBERTWhitespace: Bool {
        value == 0x09 || value == 0x0A || value == 0x0D || (properties.isWhitespace && !isOtherCategory)
    }

    /// The CJK Unified Ideographs blocks and their extensions and compatibility blocks (not kana
    /// or Hangul, which are written with spaces between words).
    fileprivate var isCJKIdeograph: Bool {
        switch value {
        case 0x4E00...0x9FFF, 0x3400...0x4DBF, 0x20000...0x2A6DF, 0x2A700...0x2B73F, 0x2B740...0x2B81F,
             0x2B920...0x2CEAF, 0xF900...0xFAFF, 0x2F800...0x2FA1F: true
        default: false
        }
    }
}
