//! Sandbox mode: demo data and, as they arrive, the simulated MAX, ЕСИА and ГИС ЖКХ.

pub mod demo;
pub mod esia;
pub mod gis;
pub mod gis_appeals;
pub mod gis_xml;
pub mod registry;
