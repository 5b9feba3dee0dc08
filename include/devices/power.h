/* SPDX-License-Identifier: Apache-2.0 */
/* The ACPI hardware-reduced sleep registers: writing S5 to the control port powers the VM off. */
#ifndef KVMINI_DEVICES_POWER_H
#define KVMINI_DEVICES_POWER_H

#define POWER_SLEEP_CTL_PORT 0x600
#define POWER_SLEEP_STS_PORT 0x601

#endif
