#ifndef MQTT_PROXY_CNCURSESW_SHIM_H
#define MQTT_PROXY_CNCURSESW_SHIM_H

#define _XOPEN_SOURCE_EXTENDED 1
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>
#if __has_include(<ncursesw/curses.h>)
#include <ncursesw/curses.h>
#include <ncursesw/term.h>
#else
#include <curses.h>
#include <term.h>
#endif

/* Swift 6 cannot use ncurses' macros and mutable globals; these wrappers give it functions instead. */

static inline WINDOW *mp_stdscr(void) { return stdscr; }
static inline WINDOW *mp_curscr(void) { return curscr; }
static inline int mp_lines(void) { return LINES; }
static inline int mp_cols(void) { return COLS; }
static inline int mp_colors(void) { return COLORS; }
static inline int mp_color_pairs(void) { return COLOR_PAIRS; }
static inline attr_t mp_a_bold(void) { return A_BOLD; }
static inline attr_t mp_a_dim(void) { return A_DIM; }
static inline attr_t mp_a_reverse(void) { return A_REVERSE; }
static inline attr_t mp_a_underline(void) { return A_UNDERLINE; }
static inline attr_t mp_a_normal(void) { return A_NORMAL; }
static inline attr_t mp_color_pair(int n) { return COLOR_PAIR(n); }
static inline void mp_getmaxyx(WINDOW *w, int *y, int *x) { int yy, xx; getmaxyx(w, yy, xx); *y = yy; *x = xx; }
static inline int mp_key_resize(void) { return KEY_RESIZE; }
static inline int mp_err(void) { return ERR; }

/* Writes one wide character with attributes at the cursor (a cchar_t built from a UTF-32 code point). */
static inline int mp_add_wch(WINDOW *w, int y, int x, wchar_t ch, attr_t attr, short pair) {
    cchar_t cc;
    wchar_t text[2] = { ch, L'\0' };
    setcchar(&cc, text, attr, pair, NULL);
    return mvwadd_wch(w, y, x, &cc);
}

/* Writes one grapheme (`count` code points: a spacing character and the combining marks after it) at
 * (y, x). Code points that are not zero-width after the first are dropped: a cell holds one spacing char. */
static inline int mp_add_cluster(WINDOW *w, int y, int x, const wchar_t *points, int count, attr_t attr,
                                 short pair) {
    wchar_t text[CCHARW_MAX + 1];
    int n = 0;
    for (int i = 0; i < count && n < CCHARW_MAX; i++) {
        if (i == 0 || wcwidth(points[i]) == 0) text[n++] = points[i];
    }
    if (n == 0) text[n++] = L' ';
    text[n] = L'\0';
    cchar_t cc;
    if (setcchar(&cc, text, attr, pair, NULL) == ERR) {
        wchar_t fallback[2] = { L'?', L'\0' };
        setcchar(&cc, fallback, attr, pair, NULL);
    }
    return mvwadd_wch(w, y, x, &cc);
}

/* Mouse: clicks of the first button and the wheel only (no motion reports), reported at once (no wait to tell
 * a click from a double click). */
static inline void mp_enable_mouse(void) {
    mousemask(BUTTON1_PRESSED | BUTTON1_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED, NULL);
    mouseinterval(0);
}
static inline int mp_key_mouse(void) { return KEY_MOUSE; }

/* After KEY_MOUSE: 1 a click at (*y, *x), 2 wheel up, 3 wheel down, 0 anything else. */
static inline int mp_read_mouse(int *y, int *x) {
    MEVENT event;
    if (getmouse(&event) != OK) return 0;
    *y = event.y;
    *x = event.x;
    if (event.bstate & BUTTON4_PRESSED) return 2;
    if (event.bstate & BUTTON5_PRESSED) return 3;
    if (event.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)) return 1;
    return 0;
}

/* newterm on the process's standard output and input (Swift 6 refuses the `stdout`/`stdin` globals). */
static inline SCREEN *mp_newterm(void) { return newterm(NULL, stdout, stdin); }

/* Whether terminfo knows `term`: 1 usable, 0 unknown terminal type, -1 no terminfo database. Loads the
 * entry without touching the screen and frees it again. */
static inline int mp_terminfo_status(const char *term) {
    int status = 0;
    if (setupterm(term, 1, &status) != OK) return status;
    del_curterm(cur_term);
    return 1;
}

/* --- Terminal restore on exit and on crashes ------------------------------------------------------- */

/* State lives in function-local statics: Swift emits a header's inline functions, not its static globals. */
static inline volatile sig_atomic_t *mp_screen_active(void) {
    static volatile sig_atomic_t active = 0;
    return &active;
}

static inline struct sigaction *mp_previous_action(int sig) {
    static struct sigaction previous[NSIG];
    return &previous[sig];
}

/* Marks whether curses owns the terminal (the exit and crash handlers only call endwin() while it does). */
static inline void mp_set_screen_active(int active) { *mp_screen_active() = active; }

static inline void mp_restore_terminal(void) {
    if (*mp_screen_active() && !isendwin()) endwin();
    *mp_screen_active() = 0;
}

/* A fatal signal: give the terminal back, then let the previous handler (or the default) finish the job. */
static inline void mp_fatal_signal(int sig) {
    mp_restore_terminal();
    sigaction(sig, mp_previous_action(sig), NULL);
    raise(sig);
}

/* Installs the atexit hook and the SIGSEGV/SIGABRT/SIGBUS/SIGILL/SIGFPE handlers, once per process. */
static inline void mp_install_restore_handlers(void) {
    static int installed = 0;
    if (installed) return;
    installed = 1;
    atexit(mp_restore_terminal);
    const int signals[] = { SIGSEGV, SIGABRT, SIGBUS, SIGILL, SIGFPE };
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct sigaction action;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_ONSTACK;
        action.sa_handler = mp_fatal_signal;
        sigaction(signals[i], &action, mp_previous_action(signals[i]));
    }
}

#endif
