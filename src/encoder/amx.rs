//! AMX's bf16 tile products (Intel, Sapphire Rapids on): whether this process may use them
//! (Linux grants the tile state on request), and `out = x W^T` over tiles in inline assembly,
//! since Rust has no stable intrinsics for them.

#[cfg(target_arch = "x86_64")]
mod imp {
    use crate::encoder::{DEPTH, ROWS, TILE_BYTES, TILE_ROWS};
    use std::arch::asm;

    pub(in crate::encoder) fn available() -> bool {
        let features = is_x86_feature_detected!("avx512f")
            && is_x86_feature_detected!("avx512bw")
            && is_x86_feature_detected!("avx512vl")
            && is_x86_feature_detected!("fma");
        // CPUID leaf 7: EDX bit 22 is AMX-BF16, bit 24 AMX-TILE.
        let edx = std::arch::x86_64::__cpuid_count(7, 0).edx;
        features && edx & (1 << 22) != 0 && edx & (1 << 24) != 0 && permission()
    }

    /// Linux keeps the 8 KB of tile state off until a process asks for it:
    /// `arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)`, a system call the standard
    /// library does not wrap.
    #[cfg(target_os = "linux")]
    fn permission() -> bool {
        const SYS_ARCH_PRCTL: i64 = 158;
        const ARCH_REQ_XCOMP_PERM: i64 = 0x1023;
        const XFEATURE_XTILEDATA: i64 = 18;
        let ret: i64;
        // SAFETY: arch_prctl with this request only changes what the process may use.
        unsafe {
            asm!(
                "syscall",
                inlateout("rax") SYS_ARCH_PRCTL => ret,
                in("rdi") ARCH_REQ_XCOMP_PERM,
                in("rsi") XFEATURE_XTILEDATA,
                lateout("rcx") _,
                lateout("r11") _,
                options(nostack)
            );
        }
        ret == 0
    }

    #[cfg(not(target_os = "linux"))]
    fn permission() -> bool {
        false
    }

    #[repr(C, align(64))]
    struct Config {
        palette: u8,
        start_row: u8,
        reserved: [u8; 14],
        columns: [u16; 16],
        rows: [u8; 16],
    }

    /// `out = x W^T` over tiles: tmm0-3 the results of 32 rows by 32 outputs, tmm4-5 two
    /// tiles of rows, tmm6-7 two of weights, every tile 16 rows of 64 bytes.
    ///
    /// # Safety
    /// AMX is available; `x` holds `rows` (a multiple of 32) rows of `inputs` bf16, `tiles`
    /// `outputs * inputs` packed weights, `out` `rows * outputs` numbers.
    pub(in crate::encoder) unsafe fn product(
        x: &[u16],
        rows: usize,
        inputs: usize,
        tiles: &[u16],
        outputs: usize,
        out: &mut [f32],
    ) {
        let mut config = Config {
            palette: 1,
            start_row: 0,
            reserved: [0; 14],
            columns: [0; 16],
            rows: [0; 16],
        };
        for t in 0..8 {
            config.columns[t] = TILE_BYTES as u16;
            config.rows[t] = TILE_ROWS as u8;
        }
        // Loaded on every call: the configuration belongs to the thread, and cheap to set.
        asm!("ldtilecfg [{}]", in(reg) &config, options(nostack, readonly));
        let depths = inputs / DEPTH;
        let tile = TILE_ROWS * DEPTH;
        let x_stride = inputs * 2;
        let out_stride = outputs * 4;
        for group in (0..outputs / TILE_ROWS).step_by(2) {
            let w0 = tiles.as_ptr().add(group * depths * tile);
            let w1 = w0.add(depths * tile);
            for row in (0..rows).step_by(ROWS) {
                let x0 = x.as_ptr().add(row * inputs);
                let x1 = x0.add(TILE_ROWS * inputs);
                asm!(
                    "tilezero tmm0",
                    "tilezero tmm1",
                    "tilezero tmm2",
                    "tilezero tmm3",
                    options(nostack, nomem)
                );
                for d in 0..depths {
                    asm!(
                        "tileloadd tmm4, [{x0} + {xs}*1]",
                        "tileloadd tmm5, [{x1} + {xs}*1]",
                        "tileloadd tmm6, [{w0} + {ws}*1]",
                        "tileloadd tmm7, [{w1} + {ws}*1]",
                        "tdpbf16ps tmm0, tmm4, tmm6",
                        "tdpbf16ps tmm1, tmm4, tmm7",
                        "tdpbf16ps tmm2, tmm5, tmm6",
                        "tdpbf16ps tmm3, tmm5, tmm7",
                        x0 = in(reg) x0.add(d * DEPTH),
                        x1 = in(reg) x1.add(d * DEPTH),
                        w0 = in(reg) w0.add(d * tile),
                        w1 = in(reg) w1.add(d * tile),
                        xs = in(reg) x_stride,
                        ws = in(reg) TILE_BYTES,
                        options(nostack, readonly)
                    );
                }
                let o = out.as_mut_ptr().add(row * outputs + group * TILE_ROWS);
                asm!(
                    "tilestored [{o00} + {os}*1], tmm0",
                    "tilestored [{o01} + {os}*1], tmm1",
                    "tilestored [{o10} + {os}*1], tmm2",
                    "tilestored [{o11} + {os}*1], tmm3",
                    o00 = in(reg) o,
                    o01 = in(reg) o.add(TILE_ROWS),
                    o10 = in(reg) o.add(TILE_ROWS * outputs),
                    o11 = in(reg) o.add(TILE_ROWS * outputs + TILE_ROWS),
                    os = in(reg) out_stride,
                    options(nostack)
                );
            }
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod imp {
    pub(in crate::encoder) fn available() -> bool {
        false
    }

    pub(in crate::encoder) unsafe fn product(
        _: &[u16],
        _: usize,
        _: usize,
        _: &[u16],
        _: usize,
        _: &mut [f32],
    ) {
        unreachable!("AMX is x86 only")
    }
}

pub(super) use imp::{available, product};
