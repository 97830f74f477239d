/* screen: the lab's screen manager: the layout of the panels, the event loop
 * (keys, mouse, signals, the engine's wake-up descriptor, the frame clock),
 * the overlays (help, preset picker, export, quit) and the key table. */
#ifndef SL_TUI_SCREEN_H
#define SL_TUI_SCREEN_H

#include "lab.h"

/* The keys and what they do, as the help overlay lists them. */
typedef struct {
    const char *keys;
    const char *what;
} KeyHelp;
extern const KeyHelp Screen_keys[];

#endif
