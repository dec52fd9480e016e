//! Prices and billing rules, rendered from the same table the code charges with.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{
    credits::{credits_text, usd_suffix},
    signed_in::SignedIn,
};
use crate::rules::{
    motion_inputs::whole_seconds,
    pricing::{
        credits_in_words, format_credits, format_credits_exact, motion_cost, Orientation, Quality,
        ELEMENT_MICRO_CREDITS,
    },
};

/// The output length the price examples are worked out for.
const EXAMPLE_MS: u64 = 8_000;

/// The price table; signed-in members only.
#[component]
pub fn PricingPage() -> impl IntoView {
    view! {
        <Title text="Pricing · Kinema" />
        <SignedIn children=|_user| view! { <Pricing /> } />
    }
}

#[component]
fn Pricing() -> impl IntoView {
    let per_second = |quality: Quality| format_credits_exact(quality.micro_credits_per_second());
    let example = |quality: Quality| {
        format!(
            "{}: {}",
            whole_seconds(EXAMPLE_MS),
            credits_text(motion_cost(quality, Orientation::Video, EXAMPLE_MS))
        )
    };
    let cap = |orientation: Orientation| {
        format!(
            "{} s with \"{}\"",
            orientation.max_seconds(),
            orientation.label()
        )
    };
    let billing_rule = format!(
        "Motion Control is billed per second of output, rounded to the nearest second. The output follows the motion video and is capped at {} and {}.",
        cap(Orientation::Image),
        cap(Orientation::Video),
    );
    let element_rule = format!(
        "Creating a custom element costs {}; a failed creation is refunded in full.",
        credits_in_words(ELEMENT_MICRO_CREDITS),
    );
    view! {
        <section class="card">
            <h1>"Pricing"</h1>
            <table>
                <thead>
                    <tr>
                        <th>"What"</th>
                        <th>"Price"</th>
                        <th>"Example"</th>
                    </tr>
                </thead>
                <tbody>
                    <tr>
                        <td>"Motion Control, 720p"</td>
                        <td>
                            {format!("{} credits per output second", per_second(Quality::P720))}
                        </td>
                        <td>{example(Quality::P720)}</td>
                    </tr>
                    <tr>
                        <td>"Motion Control, 1080p"</td>
                        <td>
                            {format!("{} credits per output second", per_second(Quality::P1080))}
                        </td>
                        <td>{example(Quality::P1080)}</td>
                    </tr>
                    <tr>
                        <td>"Custom element"</td>
                        <td>
                            {format!(
                                "{} credit per element",
                                format_credits(ELEMENT_MICRO_CREDITS),
                            )}
                        </td>
                        <td>{usd_suffix(ELEMENT_MICRO_CREDITS).trim().to_string()}</td>
                    </tr>
                </tbody>
            </table>
            <h2>"How billing works"</h2>
            <ul>
                <li>{billing_rule}</li>
                <li>
                    "The cost is held when you press Generate and settled when the task finishes, on the output length EvoLink reports."
                </li>
                <li>
                    "A failed or timed-out task costs nothing: what was held is returned in full."
                </li>
                <li>{element_rule}</li>
            </ul>
        </section>
    }
}
