/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KVMINI_DEVICES_BOOT_TIMER_H
#define KVMINI_DEVICES_BOOT_TIMER_H

/* The built-in smoke init writes here first thing (guests/init). */
#define BOOT_TIMER_PORT 0x440

#endif
