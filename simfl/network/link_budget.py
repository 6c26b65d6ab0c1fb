"""Range-dependent link rate: free-space path loss and Shannon capacity (pure functions).

``rate_bps = bandwidth_hz * log2(1 + SNR)`` with
``SNR = P_tx * G_tx * G_rx / (FSPL(range, f) * k * T_sys * bandwidth_hz)`` in linear units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simfl.errors import SimflError

SPEED_OF_LIGHT_M_PER_S = 299_792_458.0
BOLTZMANN_DBW_PER_K_HZ = -228.599_16  # 10*log10(1.380649e-23)


def free_space_path_loss_db(range_km: np.ndarray | float, frequency_hz: float) -> np.ndarray:
    """Return the free-space path loss in dB, ``20 log10(4 pi d f / c)``, shape of range_km."""
    d_m = np.asarray(range_km, dtype=float) * 1000.0
    return 20.0 * np.log10(4.0 * np.pi * d_m * frequency_hz / SPEED_OF_LIGHT_M_PER_S)


@dataclass(frozen=True)
class LinkBudget:
    """A radio link's parameters; its rate follows the slant range.

    Attributes
    ----------
    frequency_hz
        Carrier frequency (e.g. 12e9 for Ku band downlinks).
    bandwidth_hz
        Occupied bandwidth.
    tx_power_dbw
        Transmit power in dBW (10 W = 10 dBW).
    tx_gain_dbi, rx_gain_dbi
        Antenna gains.
    system_noise_temp_k
        Receiver system noise temperature.
    losses_db
        Other losses (atmosphere, pointing, implementation), subtracted from the budget.
    efficiency
        Fraction of the Shannon capacity that the modem achieves (0, 1].
    """

    frequency_hz: float
    bandwidth_hz: float
    tx_power_dbw: float
    tx_gain_dbi: float = 0.0
    rx_gain_dbi: float = 0.0
    system_noise_temp_k: float = 500.0
    losses_db: float = 0.0
    efficiency: float = 1.0

    def __post_init__(self) -> None:
        problems = []
        for name in ("frequency_hz", "bandwidth_hz", "system_noise_temp_k"):
            if not getattr(self, name) > 0:  # written so that NaN fails too
                problems.append(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 < self.efficiency <= 1:
            problems.append(f"efficiency must be in (0, 1], got {self.efficiency}")
        if problems:
            raise SimflError(problems)

    def snr_db(self, range_km: np.ndarray | float) -> np.ndarray:
        """Return the signal-to-noise ratio in dB at slant range ``range_km``."""
        noise_dbw = (
            BOLTZMANN_DBW_PER_K_HZ
            + 10.0 * np.log10(self.system_noise_temp_k)
            + 10.0 * np.log10(self.bandwidth_hz)
        )
        received_dbw = (
            self.tx_power_dbw + self.tx_gain_dbi + self.rx_gain_dbi - self.losses_db
            - free_space_path_loss_db(range_km, self.frequency_hz)
        )
        return np.asarray(received_dbw - noise_dbw)

    def rate_bps(self, range_km: np.ndarray | float) -> np.ndarray:
        """Return the achievable rate in bit/s at ``range_km`` (Shannon x efficiency)."""
        snr = 10.0 ** (self.snr_db(range_km) / 10.0)
        return np.asarray(self.efficiency * self.bandwidth_hz * np.log2(1.0 + snr))
