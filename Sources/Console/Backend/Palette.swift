import CNCursesw

/// How each `Role` looks on this terminal: a colour pair plus attributes, or attributes alone when colours
/// are off (`NO_COLOR`, or a terminal without colours).
///
/// Bars (`Role.bar`) and expected-share marks are drawn as characters (block elements), so the roles only
/// colour them; they never rely on a background colour to be visible.
struct Palette {
    struct Style {
        var attributes: attr_t
        var pair: Int16
    }

    private var styles: [Style]

    private init(styles: [Role: Style]) {
        self.styles = Role.allCases.map { styles[$0] ?? Style(attributes: mp_a_normal(), pair: 0) }
    }

    func style(_ role: Role) -> Style { styles[Int(role.rawValue)] }

    /// Roles as bold, reverse, dim and underline only.
    static func monochrome() -> Palette {
        let bold = mp_a_bold(), reverse = mp_a_reverse(), dim = mp_a_dim(), underline = mp_a_underline()
        func s(_ a: attr_t) -> Style { Style(attributes: a, pair: 0) }
        return Palette(styles: [
            .normal: s(mp_a_normal()), .header: s(reverse | bold), .selected: s(reverse), .dim: s(dim),
            .accent: s(bold), .good: s(mp_a_normal()), .warning: s(bold), .bad: s(bold | underline),
            .bar: s(bold), .expected: s(dim), .border: s(mp_a_normal()), .input: s(underline),
        ])
    }

    /// Roles in colour, over the terminal's own background where it lets us (`use_default_colors`).
    static func colour() -> Palette {
        guard start_color() == OK else { return monochrome() }
        let background: Int16 = use_default_colors() == OK ? -1 : Int16(COLOR_BLACK)
        let foreground: Int16 = background == -1 ? -1 : Int16(COLOR_WHITE)
        let grey: Int16 = mp_colors() >= 16 ? 8 : foreground
        let table: [(Role, Int16, Int16, attr_t)] = [
            (.normal, foreground, background, mp_a_normal()),
            (.header, Int16(COLOR_BLACK), Int16(COLOR_CYAN), mp_a_normal()),
            (.selected, Int16(COLOR_BLACK), Int16(COLOR_WHITE), mp_a_normal()),
            (.dim, grey, background, grey == foreground ? mp_a_dim() : mp_a_normal()),
            (.accent, Int16(COLOR_CYAN), background, mp_a_bold()),
            (.good, Int16(COLOR_GREEN), background, mp_a_normal()),
            (.warning, Int16(COLOR_YELLOW), background, mp_a_bold()),
            (.bad, Int16(COLOR_RED), background, mp_a_bold()),
            (.bar, Int16(COLOR_GREEN), background, mp_a_normal()),
            (.expected, Int16(COLOR_MAGENTA), background, mp_a_bold()),
            (.border, Int16(COLOR_BLUE), background, mp_a_bold()),
            (.input, Int16(COLOR_WHITE), Int16(COLOR_BLUE), mp_a_normal()),
        ]
        guard mp_color_pairs() > table.count else { return monochrome() }
        var styles: [Role: Style] = [:]
        for (index, entry) in table.enumerated() {
            let pair = Int16(index + 1)
            init_pair(pair, entry.1, entry.2)
            styles[entry.0] = Style(attributes: entry.3, pair: pair)
        }
        return Palette(styles: styles)
    }
}
