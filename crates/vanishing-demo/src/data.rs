//! Seeded synthetic data: two interleaved spirals, the classic hard case for deep MLPs.

use candle_core::{Device, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

use crate::Result;

/// A two-class, two-dimensional classification set.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Point coordinates, roughly within `[-1, 1]²`.
    pub points: Vec<[f32; 2]>,
    /// Class of each point, 0 or 1.
    pub labels: Vec<u32>,
}

impl Dataset {
    /// Two spirals of `per_class` points each, 1.5 turns, with Gaussian noise of standard
    /// deviation `noise`; the same seed always gives the same points.
    pub fn spirals(per_class: usize, noise: f32, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        // A zero or negative deviation means no noise; `Normal` only refuses NaN or negative.
        let jitter = Normal::new(0.0f32, noise.max(0.0)).ok();
        let mut points = Vec::with_capacity(2 * per_class);
        let mut labels = Vec::with_capacity(2 * per_class);
        for class in 0..2u32 {
            for _ in 0..per_class {
                let t: f32 = rng.random_range(0.05..1.0);
                let angle = 3.0 * std::f32::consts::PI * t + class as f32 * std::f32::consts::PI;
                let mut noise = || jitter.map_or(0.0, |n| n.sample(&mut rng));
                points.push([t * angle.cos() + noise(), t * angle.sin() + noise()]);
                labels.push(class);
            }
        }
        Self { points, labels }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether the set has no points.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// The points as an `(n, 2)` tensor and the labels as an `(n,)` u32 tensor.
    pub fn to_tensors(&self, device: &Device) -> Result<(Tensor, Tensor)> {
        let flat: Vec<f32> = self.points.iter().flatten().copied().collect();
        let x = Tensor::from_vec(flat, (self.len(), 2), device)?;
        let y = Tensor::from_vec(self.labels.clone(), self.len(), device)?;
        Ok((x, y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_points_other_seed_other_points() {
        let a = Dataset::spirals(50, 0.05, 1);
        assert_eq!(a, Dataset::spirals(50, 0.05, 1));
        assert_ne!(a, Dataset::spirals(50, 0.05, 2));
    }

    #[test]
    fn balanced_classes_of_the_requested_size() {
        let d = Dataset::spirals(30, 0.0, 3);
        assert_eq!(d.len(), 60);
        assert_eq!(d.labels.iter().filter(|&&l| l == 1).count(), 30);
        // Without noise every point lies on its spiral, inside the unit disc.
        assert!(d.points.iter().all(|[x, y]| x * x + y * y <= 1.0 + 1e-6));
    }

    #[test]
    fn tensors_have_matching_shapes() {
        let d = Dataset::spirals(4, 0.1, 0);
        let (x, y) = d.to_tensors(&Device::Cpu).unwrap();
        assert_eq!(x.dims(), &[8, 2]);
        assert_eq!(y.dims(), &[8]);
        assert_eq!(x.to_vec2::<f32>().unwrap()[3], d.points[3]);
    }
}
