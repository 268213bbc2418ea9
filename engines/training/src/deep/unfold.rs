//! The im2col matrix of a convolution as one candle operation, and its gradient (col2im) as
//! another. Built from slices, the unfolding was k_h·k_w views stacked and transposed (two
//! copies of the matrix) and, backward, k_h·k_w zero-padded copies of the input summed: one
//! full-size tensor per tap. Here each direction is one pass over the data (BENCHMARKS.md,
//! "Networks", measures the difference).

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

/// `[N, C, H, W]` → `[N, H_out·W_out, C·k_h·k_w]`: row `oy·W_out + ox` holds, at column
/// `c·k_h·k_w + i·k_w + j`, the input at `(c, oy·s + i, ox·s + j)` (PyTorch's weight order,
/// so the matrix times `w.reshape(F, C·k_h·k_w)ᵀ` is the convolution). No padding: the input
/// is padded before.
pub(crate) struct Unfold {
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
}

/// The gradient of [`Unfold`]: each column entry added back to the input position it was
/// read from.
struct Fold {
    kh: usize,
    kw: usize,
    stride: usize,
    channels: usize,
    height: usize,
    width: usize,
}

fn out_size(n: usize, k: usize, s: usize) -> usize {
    (n - k) / s + 1
}

fn f32_data<'a>(storage: &'a CpuStorage, layout: &Layout) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("unfold reads float32 tensors")
    };
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("unfold reads contiguous tensors"),
    }
}

impl CustomOp1 for Unfold {
    fn name(&self) -> &'static str {
        "unfold2d"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32_data(storage, layout)?;
        let (n, c, h, w) = layout.shape().dims4()?;
        let (kh, kw, s) = (self.kh, self.kw, self.stride);
        let (ho, wo) = (out_size(h, kh, s), out_size(w, kw, s));
        let cols = c * kh * kw;
        let mut out = vec![0f32; n * ho * wo * cols];
        for b in 0..n {
            let image = &x[b * c * h * w..(b + 1) * c * h * w];
            let rows = &mut out[b * ho * wo * cols..(b + 1) * ho * wo * cols];
            for oy in 0..ho {
                for ox in 0..wo {
                    let row = &mut rows[(oy * wo + ox) * cols..(oy * wo + ox + 1) * cols];
                    let mut k = 0;
                    for ci in 0..c {
                        let plane = &image[ci * h * w..(ci + 1) * h * w];
                        for i in 0..kh {
                            let at = (oy * s + i) * w + ox * s;
                            row[k..k + kw].copy_from_slice(&plane[at..at + kw]);
                            k += kw;
                        }
                    }
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n, ho * wo, cols))))
    }

    fn bwd(
        &self,
        arg: &Tensor,
        _res: &Tensor,
        grad_res: &Tensor,
    ) -> candle_core::Result<Option<Tensor>> {
        let (_, channels, height, width) = arg.dims4()?;
        let fold = Fold {
            kh: self.kh,
            kw: self.kw,
            stride: self.stride,
            channels,
            height,
            width,
        };
        Ok(Some(grad_res.contiguous()?.apply_op1_no_bwd(&fold)?))
    }
}

impl CustomOp1 for Fold {
    fn name(&self) -> &'static str {
        "fold2d"
    }

    fn cpu_fwd(
        &self,
        storage: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let g = f32_data(storage, layout)?;
        let (n, _, cols) = layout.shape().dims3()?;
        let (c, h, w) = (self.channels, self.height, self.width);
        let (kh, kw, s) = (self.kh, self.kw, self.stride);
        let (ho, wo) = (out_size(h, kh, s), out_size(w, kw, s));
        let mut out = vec![0f32; n * c * h * w];
        for b in 0..n {
            let image = &mut out[b * c * h * w..(b + 1) * c * h * w];
            let rows = &g[b * ho * wo * cols..(b + 1) * ho * wo * cols];
            for oy in 0..ho {
                for ox in 0..wo {
                    let row = &rows[(oy * wo + ox) * cols..(oy * wo + ox + 1) * cols];
                    let mut k = 0;
                    for ci in 0..c {
                        let plane = &mut image[ci * h * w..(ci + 1) * h * w];
                        for i in 0..kh {
                            let at = (oy * s + i) * w + ox * s;
                            for (p, v) in plane[at..at + kw].iter_mut().zip(&row[k..k + kw]) {
                                *p += v;
                            }
                            k += kw;
                        }
                    }
                }
            }
        }
        Ok((CpuStorage::F32(out), Shape::from((n, c, h, w))))
    }
}
